#include "plugins/process/process.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "agent/plugin/process_table.h"
#include "agent/plugin/services.h"
#include "agent/util/fs.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr std::string_view kMetrics[] = {"count",   "cpu_percent", "rss_bytes", "fds",
                                         "threads", "zombies",     "restarts",  "uptime_seconds"};

// The kernel keeps comm in TASK_COMM_LEN = 16 bytes with its NUL: a longer
// name could never match, which is a configuration error, not a silent 0.
constexpr size_t kCommMax = 15;

struct RegexDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using Regex = std::unique_ptr<pcre2_code, RegexDeleter>;

// What a process must satisfy: every criterion given.
struct Criteria {
  std::optional<std::string> name;
  Regex cmdline;
  std::optional<std::string> pidfile;
  std::optional<int64_t> uid;            // numeric `user`, or once the name is resolved
  std::optional<std::string> user_name;  // `user` given by name, resolved at collection
};

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What the keys of a process check say. The user is a uid when given as a
// number, else a name resolved at collection.
struct ProcessOptions {
  std::optional<std::string> name;
  std::optional<Entry> cmdline;  // compiled by create(), which reports at its line
  std::optional<std::string> pidfile;
  std::optional<int64_t> uid;
  std::optional<std::string> user_name;
  Duration window{};
};

Status set_name(ProcessOptions& o, const Entry& e) {
  if (e.value.empty() || e.value.size() > kCommMax) {
    return make_error("name '" + e.value +
                      "' must be 1 to 15 bytes (the kernel's comm); use cmdline for longer names");
  }
  o.name = e.value;
  return {};
}

Status set_user(ProcessOptions& o, const Entry& e) {
  std::string_view u = trim(e.value);
  if (u.empty()) {
    return make_error("user must be a user name or a uid");
  }
  if (all_digits(u)) {
    if (u.size() > 10 || std::stoll(std::string(u)) > 4294967295LL) {
      return make_error("uid " + std::string(u) + " is out of range");
    }
    o.uid = std::stoll(std::string(u));
  } else {
    o.user_name = std::string(u);
  }
  return {};
}

const KeyTable<ProcessOptions> kKeys = {
    key<ProcessOptions>("name", ValueType::kString, set_name)
        .help("exact `comm` (the kernel's process name, as `ps -o comm` shows it): at most 15 "
              "bytes, longer is an error; use `cmdline` for longer names"),
    key("cmdline", &ProcessOptions::cmdline)
        .regex()
        .help("PCRE2 regex searched in the command line (arguments joined by spaces); a bad "
              "regex is an error at its line"),
    key("pidfile", &ProcessOptions::pidfile)
        .path()
        .help("the process whose pid this file holds; a missing, empty or garbled file matches "
              "nothing (count 0)"),
    key<ProcessOptions>("user", ValueType::kString, set_user)
        .help("real uid owner, by name (resolved through NSS at the first collection; an "
              "unknown name fails the collection) or number"),
    key("window", &ProcessOptions::window)
        .default_value("10m")
        .help("`restarts` counts over this window"),
};

// The pid a pidfile names; a missing, empty or garbled file names none.
std::optional<int> read_pidfile(const std::string& path) {
  auto text = read_file(path, 256);
  if (!text.ok()) {
    return std::nullopt;
  }
  std::string_view s = trim(text.value());
  if (!all_digits(s) || s.size() > 9) {
    return std::nullopt;
  }
  int pid = std::stoi(std::string(s));
  return pid > 0 ? std::optional<int>(pid) : std::nullopt;
}

// Resolves through NSS (files, LDAP …) at the first collection rather than in
// create(), which must not open files.
Result<int64_t> lookup_user(const std::string& name) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20)) {
    buf.resize(buf.size() * 2);
  }
  if (found == nullptr) {
    return make_error("unknown user '" + name + "'");
  }
  return static_cast<int64_t>(pw.pw_uid);
}

class ProcessCollector final : public Collector {
 public:
  ProcessCollector(Criteria criteria, Duration window)
      : criteria_(std::move(criteria)), window_(window) {}

  Result<Sample> read(const CollectContext& ctx) override {
    ProcessScanNeeds needs;
    needs.uid = criteria_.uid.has_value() || criteria_.user_name.has_value();
    needs.cmdline = criteria_.cmdline != nullptr;
    ProcessTable* table = ctx.services != nullptr ? ctx.services->processes : nullptr;
    // Half the interval: a check always finds a fresh scan at its next run,
    // and checks on shorter intervals refresh it for the others.
    auto snap = table != nullptr ? table->snapshot(ctx.procfs, ctx.now, ctx.interval / 2, needs)
                                 : scan_processes(ctx.procfs, ctx.now, needs);
    if (!snap.ok()) {
      return snap.error_info();
    }
    if (criteria_.user_name && !criteria_.uid) {
      auto uid = lookup_user(*criteria_.user_name);
      if (!uid.ok()) {
        return uid.error_info();
      }
      criteria_.uid = uid.value();
    }
    return evaluate(*snap.value(), ctx);
  }

 private:
  struct Seen {
    uint64_t start_ticks;
    uint64_t cpu_ticks;
  };

  bool matches(const ProcessInfo& p, pcre2_match_data* md) const {
    if (criteria_.name && p.comm != *criteria_.name) {
      return false;
    }
    if (criteria_.uid && p.uid != *criteria_.uid) {
      return false;
    }
    if (criteria_.cmdline) {
      int rc = pcre2_match(criteria_.cmdline.get(), reinterpret_cast<PCRE2_SPTR>(p.cmdline.data()),
                           p.cmdline.size(), 0, 0, md, nullptr);
      if (rc < 0) {
        return false;
      }
    }
    return true;
  }

  Result<Sample> evaluate(const ProcessSnapshot& snap, const CollectContext& ctx) {
    std::optional<int> only_pid;
    if (criteria_.pidfile) {
      only_pid = read_pidfile(*criteria_.pidfile);
    }
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> md;
    if (criteria_.cmdline) {
      md.reset(pcre2_match_data_create_from_pattern(criteria_.cmdline.get(), nullptr));
    }
    // The agent and the commands it runs (exec checks) never count: a check
    // on `sh` must not see the agent's own children come and go.
    const int self = static_cast<int>(getpid());

    std::vector<const ProcessInfo*> live;
    int64_t zombies = 0;
    if (!criteria_.pidfile || only_pid) {
      for (const ProcessInfo& p : snap.processes) {
        if (p.pid == self || p.ppid == self || (only_pid && p.pid != *only_pid) ||
            !matches(p, md.get())) {
          continue;
        }
        if (p.state == 'Z') {
          ++zombies;
        } else {
          live.push_back(&p);
        }
      }
    }

    const double tck = static_cast<double>(snap.ticks_per_second);
    const ProcessInfo* oldest = nullptr;
    for (const ProcessInfo* p : live) {
      if (oldest == nullptr || p->start_ticks < oldest->start_ticks ||
          (p->start_ticks == oldest->start_ticks && p->pid < oldest->pid)) {
        oldest = p;
      }
    }
    // A restart is a new oldest process after one was seen, also across a gap
    // with none: the identity of the last oldest is kept while count is 0.
    if (oldest != nullptr) {
      std::pair<int, uint64_t> id{oldest->pid, oldest->start_ticks};
      if (oldest_ && *oldest_ != id) {
        restarts_.push_back(ctx.now);
      }
      oldest_ = id;
    }
    while (!restarts_.empty() && ctx.now - restarts_.front() >= window_) {
      restarts_.pop_front();
    }

    Sample sample;
    sample.set("count", static_cast<double>(live.size()));
    if (!live.empty()) {
      sample.set("cpu_percent", cpu_percent(snap, live, ctx.once));
      int64_t rss = 0;
      int64_t threads = 0;
      std::optional<int64_t> fds = 0;
      for (const ProcessInfo* p : live) {
        rss += p->rss_pages;
        threads += p->threads;
        if (fds) {
          auto n = count_process_fds(ctx.procfs, p->pid);
          fds = n ? std::optional<int64_t>(*fds + *n) : std::nullopt;
        }
      }
      sample.set("rss_bytes", static_cast<double>(rss) * static_cast<double>(snap.page_size));
      if (fds) {
        sample.set("fds", static_cast<double>(*fds));
      }
      sample.set("threads", static_cast<double>(threads));
    }
    sample.set("zombies", static_cast<double>(zombies));
    sample.set("restarts", static_cast<double>(restarts_.size()));
    if (oldest != nullptr) {
      double up = snap.uptime_seconds - static_cast<double>(oldest->start_ticks) / tck;
      sample.set("uptime_seconds", std::max(0.0, up));
    }

    if (!ctx.once) {
      remember(snap, live);
    }
    return sample;
  }

  // Sum over the processes of their CPU time per wall second, x100 (100 = one
  // CPU busy). Between two scans: the growth of each process's ticks over the
  // time between the scans; a process born since the previous scan counts all
  // its ticks. Without a previous scan (the first run, `once`): each process's
  // average since it started.
  double cpu_percent(const ProcessSnapshot& snap, const std::vector<const ProcessInfo*>& live,
                     bool once) {
    const double tck = static_cast<double>(snap.ticks_per_second);
    if (once || !prev_taken_) {
      double sum = 0;
      for (const ProcessInfo* p : live) {
        double age = snap.uptime_seconds - static_cast<double>(p->start_ticks) / tck;
        if (age > 0) {
          sum += static_cast<double>(p->cpu_ticks) / tck / age;
        }
      }
      return last_cpu_ = 100.0 * sum;
    }
    double elapsed = to_seconds(std::chrono::duration_cast<Duration>(snap.taken - *prev_taken_));
    if (elapsed <= 0) {
      return last_cpu_;  // the same scan as last time: nothing new to measure
    }
    uint64_t ticks = 0;
    for (const ProcessInfo* p : live) {
      auto it = prev_.find(p->pid);
      if (it != prev_.end() && it->second.start_ticks == p->start_ticks) {
        if (p->cpu_ticks > it->second.cpu_ticks) {
          ticks += p->cpu_ticks - it->second.cpu_ticks;
        }
      } else if (static_cast<double>(p->start_ticks) / tck >= prev_uptime_) {
        ticks += p->cpu_ticks;
      }
    }
    return last_cpu_ = 100.0 * static_cast<double>(ticks) / tck / elapsed;
  }

  void remember(const ProcessSnapshot& snap, const std::vector<const ProcessInfo*>& live) {
    if (prev_taken_ && snap.taken == *prev_taken_) {
      return;
    }
    prev_.clear();
    for (const ProcessInfo* p : live) {
      prev_[p->pid] = Seen{p->start_ticks, p->cpu_ticks};
    }
    prev_taken_ = snap.taken;
    prev_uptime_ = snap.uptime_seconds;
  }

  Criteria criteria_;
  Duration window_;
  std::optional<std::pair<int, uint64_t>> oldest_;  // pid and start time
  std::deque<MonotonicTime> restarts_;
  std::unordered_map<int, Seen> prev_;
  std::optional<MonotonicTime> prev_taken_;
  double prev_uptime_ = 0;
  double last_cpu_ = 0;
};

Result<Regex> compile_regex(const Entry& e) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  Regex re(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(e.value.data()), e.value.size(), 0, &code,
                         &offset, nullptr));
  if (re == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(code, msg, sizeof msg);
    return make_error_at(e.file, e.line,
                         "invalid regex '" + e.value + "': " + reinterpret_cast<char*>(msg) +
                             " at offset " + std::to_string(offset));
  }
  // JIT is a speed-up only: without it (a W^X sandbox) matching still works.
  pcre2_jit_compile(re.get(), PCRE2_JIT_COMPLETE);
  return re;
}

Result<std::unique_ptr<Collector>> create(const ProcessOptions& options,
                                          const PluginConfig& config) {
  Criteria c;
  c.name = options.name;
  if (options.cmdline) {
    auto re = compile_regex(*options.cmdline);
    if (!re.ok()) {
      return re.error_info();
    }
    c.cmdline = std::move(re.value());
  }
  c.pidfile = options.pidfile;
  c.uid = options.uid;
  c.user_name = options.user_name;
  if (!c.name && !c.cmdline && !c.pidfile && !c.uid && !c.user_name) {
    return make_error_at(config.section.file, config.section.line,
                         "a process check needs at least one of name, cmdline, pidfile, user");
  }
  return std::unique_ptr<Collector>(new ProcessCollector(std::move(c), options.window));
}

}  // namespace

const Plugin kProcessPlugin = {
    .name = "process",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .create = create_with<kKeys, create>,
};

}  // namespace vigil
