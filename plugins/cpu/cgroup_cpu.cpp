#include "plugins/cpu/cgroup_cpu.h"

#include <string>

#include "agent/util/host_text.h"
#include "agent/util/strings.h"

namespace vigil {

using host_text::next_field;
using host_text::parse_u64;

Result<CgroupCpuStat> parse_cgroup_cpu_stat(std::string_view text) {
  CgroupCpuStat out;
  int found = 0;  // one bit per counter
  std::string bad;
  host_text::for_each_line(text, [&](std::string_view line) {
    std::string_view rest = line;
    std::string_view key = next_field(&rest);
    uint64_t* dst = nullptr;
    int bit = 0;
    if (key == "usage_usec") {
      dst = &out.usage_usec;
      bit = 1;
    } else if (key == "user_usec") {
      dst = &out.user_usec;
      bit = 2;
    } else if (key == "system_usec") {
      dst = &out.system_usec;
      bit = 4;
    } else {
      return true;
    }
    std::string_view value = next_field(&rest);
    if (!parse_u64(value, dst)) {
      bad = "malformed number '" + std::string(value.substr(0, 32)) + "' for " + std::string(key);
      return false;
    }
    found |= bit;
    return true;
  });
  if (!bad.empty()) {
    return make_error(bad);
  }
  if (found != 7) {
    const char* missing = (found & 1) == 0   ? "usage_usec"
                          : (found & 2) == 0 ? "user_usec"
                                             : "system_usec";
    return make_error(std::string("no ") + missing + " line");
  }
  return out;
}

Result<double> parse_cgroup_cpu_max(std::string_view text) {
  std::string_view rest = trim(text);
  std::string_view quota = next_field(&rest);
  std::string_view period = next_field(&rest);
  if (quota == "max") {
    return 0.0;
  }
  uint64_t q = 0;
  uint64_t p = 100000;  // the kernel's default period, when only a quota is written
  if (!parse_u64(quota, &q) || (!period.empty() && !parse_u64(period, &p)) || !trim(rest).empty()) {
    return make_error("malformed '" + std::string(trim(text).substr(0, 64)) +
                      "' (expected QUOTA PERIOD or max PERIOD)");
  }
  if (q == 0 || p == 0) {
    return make_error("a quota or period of 0 in '" + std::string(trim(text).substr(0, 64)) + "'");
  }
  return static_cast<double>(q) / static_cast<double>(p);
}

namespace {

double clamp_percent(double p) { return p < 0 ? 0 : (p > 100 ? 100 : p); }

}  // namespace

bool cgroup_cpu_percents(const CgroupCpuStat& prev, const CgroupCpuStat& cur, double elapsed_usec,
                         double cpus, CgroupCpuPercents* out) {
  if (!(elapsed_usec > 0) || !(cpus > 0) || cur.usage_usec < prev.usage_usec ||
      cur.user_usec < prev.user_usec || cur.system_usec < prev.system_usec) {
    return false;
  }
  double capacity = elapsed_usec * cpus;
  out->usage =
      clamp_percent(100.0 * static_cast<double>(cur.usage_usec - prev.usage_usec) / capacity);
  out->user = clamp_percent(100.0 * static_cast<double>(cur.user_usec - prev.user_usec) / capacity);
  out->system =
      clamp_percent(100.0 * static_cast<double>(cur.system_usec - prev.system_usec) / capacity);
  return true;
}

}  // namespace vigil
