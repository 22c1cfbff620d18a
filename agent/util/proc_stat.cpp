#include "agent/util/proc_stat.h"

#include "agent/util/host_text.h"

namespace vigil {
namespace {

using host_text::next_field;
using host_text::parse_u64;

constexpr int kMinColumns = 4;  // user nice system idle: kernels before 2.6

// A `cpuN` line: `cpu` then a digit (the aggregate is `cpu` then blanks).
bool is_cpu_n(std::string_view line) {
  return line.size() > 3 && line.substr(0, 3) == "cpu" && line[3] >= '0' && line[3] <= '9';
}

bool is_cpu_total(std::string_view line) {
  return line.size() > 3 && line.substr(0, 3) == "cpu" && (line[3] == ' ' || line[3] == '\t');
}

std::string quote_cut(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  out += s.substr(0, kMax);
  if (s.size() > kMax) {
    out += "…";
  }
  out += "'";
  return out;
}

}  // namespace

bool ProcStatParser::feed(std::string_view line) {
  if (is_cpu_total(line)) {
    if (seen_total_) {
      return true;  // only the first aggregate line counts
    }
    seen_total_ = true;
    uint64_t* columns[] = {&stat_.cpu.user,      &stat_.cpu.nice,   &stat_.cpu.system,
                           &stat_.cpu.idle,      &stat_.cpu.iowait, &stat_.cpu.irq,
                           &stat_.cpu.softirq,   &stat_.cpu.steal,  &stat_.cpu.guest,
                           &stat_.cpu.guest_nice};
    std::string_view rest = line.substr(3);
    int n = 0;
    for (uint64_t* column : columns) {
      std::string_view field = next_field(&rest);
      if (field.empty()) {
        break;
      }
      if (!parse_u64(field, column)) {
        failed_ = true;
        error_ = "malformed number '" + std::string(field.substr(0, 32)) + "' in the cpu line";
        return false;
      }
      ++n;
    }
    if (n < kMinColumns) {
      failed_ = true;
      error_ = "the cpu line has " + std::to_string(n) + " columns, at least " +
               std::to_string(kMinColumns) + " expected: " + quote_cut(line);
      return false;
    }
    return count_cpus_;
  }
  if (is_cpu_n(line)) {
    ++stat_.cpu_count;
    return true;
  }
  // The CPU lines come first: past them, stop (before the long `intr` line).
  return !seen_total_;
}

Result<ProcStat> ProcStatParser::finish() const {
  if (failed_) {
    return make_error(error_);
  }
  if (!seen_total_) {
    return make_error("no complete cpu line");
  }
  return stat_;
}

Result<ProcStat> parse_proc_stat(std::string_view text, bool count_cpus) {
  ProcStatParser parser(count_cpus);
  host_text::for_each_line(text, [&](std::string_view line) { return parser.feed(line); });
  return parser.finish();
}

Result<ProcStat> read_proc_stat(const std::string& path, bool count_cpus) {
  host_text::LineReader reader;
  if (Status s = reader.open(path); !s) {
    return s.error_info();
  }
  ProcStatParser parser(count_cpus);
  std::string_view line;
  while (reader.next(&line)) {
    if (!parser.feed(line)) {
      break;
    }
  }
  if (reader.failed()) {
    return make_error(host_text::errno_message("cannot read", path, reader.read_errno()));
  }
  Result<ProcStat> stat = parser.finish();
  if (!stat) {
    return make_error(path + ": " + stat.error());
  }
  return stat;
}

namespace {

// cur − prev, or 0 when the column went backwards.
uint64_t forward(uint64_t cur, uint64_t prev) { return cur >= prev ? cur - prev : 0; }

uint64_t total_of(const CpuTimes& t) {
  // guest and guest_nice are already counted in user and nice.
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

double share(uint64_t part, uint64_t total) {
  if (total == 0) {
    return 0;
  }
  double p = 100.0 * static_cast<double>(part) / static_cast<double>(total);
  return p < 0 ? 0 : (p > 100 ? 100 : p);
}

}  // namespace

CpuPercents cpu_percents(const CpuTimes* prev, const CpuTimes& cur) {
  static const CpuTimes kBoot{};
  const CpuTimes* base = prev;
  if (base == nullptr || total_of(cur) <= total_of(*base)) {
    base = &kBoot;
  }
  CpuTimes d;
  d.user = forward(cur.user, base->user);
  d.nice = forward(cur.nice, base->nice);
  d.system = forward(cur.system, base->system);
  d.idle = forward(cur.idle, base->idle);
  d.iowait = forward(cur.iowait, base->iowait);
  d.irq = forward(cur.irq, base->irq);
  d.softirq = forward(cur.softirq, base->softirq);
  d.steal = forward(cur.steal, base->steal);
  uint64_t total = total_of(d);
  if (total == 0 && base != &kBoot) {
    // Only backward columns moved: fall back to the figures since boot.
    return cpu_percents(nullptr, cur);
  }
  CpuPercents out;
  out.usage = share(total - d.idle - d.iowait, total);
  out.user = share(d.user, total);
  out.system = share(d.system, total);
  out.iowait = share(d.iowait, total);
  out.steal = share(d.steal, total);
  return out;
}

}  // namespace vigil
