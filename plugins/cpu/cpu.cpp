#include "plugins/cpu/cpu.h"

#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include "agent/plugin/cgroup_dir.h"
#include "agent/util/host_text.h"
#include "agent/util/proc_stat.h"
#include "plugins/cpu/cgroup_cpu.h"

namespace vigil {
namespace {

struct CpuOptions {
  CgroupSetting cgroup;
};

const KeyTable<CpuOptions> kKeys = {
    cgroup_key(&CpuOptions::cgroup)
        .help("`none`: host figures; `auto`: the agent's own cgroup v2 folder (the `0::/PATH` "
              "line of `<procfs>/self/cgroup`, under `<sysfs>/fs/cgroup`; on a cgroup v1 host "
              "the check is unknown and its error says so); or an absolute cgroup v2 folder: "
              "figures relative to its cpu.max"),
};

constexpr std::string_view kMetrics[] = {"usage_percent", "user_percent", "system_percent",
                                         "iowait_percent", "steal_percent"};

// `once` has no previous reading of a cgroup's counters, which start at the
// cgroup's creation, not at boot: it takes two readings this far apart.
constexpr auto kOnceGap = std::chrono::milliseconds(100);

// Host figures come from the aggregate line of /proc/stat, as a delta from the
// previous collection (since boot the first time). With `cgroup`, usage, user and
// system come from the cgroup's cpu.stat over its cpu.max instead; iowait and
// steal are not accounted per cgroup and stay host figures.
class CpuCollector final : public Collector {
 public:
  explicit CpuCollector(CgroupSetting cgroup) : cgroup_(std::move(cgroup)) {}

  Result<Sample> read(const CollectContext& ctx) override {
    if (ctx.procfs != procfs_) {
      // Paths are built once per root, not per collection.
      procfs_ = ctx.procfs;
      stat_path_ = procfs_ + "/stat";
      has_prev_ = false;
      cgroup_dir_.clear();
    }
    const bool by_cgroup = cgroup_.mode != CgroupSetting::Mode::kHost;
    Result<ProcStat> stat = read_proc_stat(stat_path_, by_cgroup);
    if (!stat) {
      return stat.error_info();
    }
    CpuPercents host = cpu_percents(has_prev_ ? &prev_ : nullptr, stat->cpu);
    prev_ = stat->cpu;
    has_prev_ = true;

    Sample sample;
    sample.metrics.reserve(std::size(kMetrics));
    if (!by_cgroup) {
      sample.set("usage_percent", host.usage);
      sample.set("user_percent", host.user);
      sample.set("system_percent", host.system);
    } else {
      Result<std::optional<CgroupCpuPercents>> cg = read_cgroup(ctx, stat->cpu_count);
      if (!cg) {
        if (cgroup_.mode == CgroupSetting::Mode::kAuto) {
          cgroup_dir_.clear();  // resolve again next time: the agent may have moved
        }
        return cg.error_info();
      }
      // Without a rate yet (the first collection of `run`), the cgroup's metrics
      // are absent, so rules on them neither fire nor clear.
      if (cg->has_value()) {
        sample.set("usage_percent", cg->value().usage);
        sample.set("user_percent", cg->value().user);
        sample.set("system_percent", cg->value().system);
      }
    }
    sample.set("iowait_percent", host.iowait);
    sample.set("steal_percent", host.steal);
    return sample;
  }

 private:
  Result<CgroupCpuStat> read_cgroup_stat() {
    char buf[1024];
    Result<std::string_view> text = host_text::read_small_file(cpu_stat_path_, buf);
    if (!text) {
      return text.error_info();
    }
    Result<CgroupCpuStat> stat = parse_cgroup_cpu_stat(text.value());
    if (!stat) {
      return make_error(cpu_stat_path_ + ": " + stat.error());
    }
    return stat;
  }

  Result<std::optional<CgroupCpuPercents>> read_cgroup(const CollectContext& ctx, int host_cpus) {
    if (cgroup_dir_.empty()) {
      Result<std::string> dir = resolve_cgroup_dir(cgroup_, ctx.procfs, ctx.sysfs);
      if (!dir) {
        return dir.error_info();
      }
      cgroup_dir_ = std::move(dir.value());
      cpu_stat_path_ = cgroup_dir_ + "/cpu.stat";
      cpu_max_path_ = cgroup_dir_ + "/cpu.max";
      has_cgroup_prev_ = false;
    }
    char buf[128];
    Result<std::string_view> max_text = host_text::read_small_file(cpu_max_path_, buf);
    if (!max_text) {
      return max_text.error_info();
    }
    Result<double> quota = parse_cgroup_cpu_max(max_text.value());
    if (!quota) {
      return make_error(cpu_max_path_ + ": " + quota.error());
    }
    double cpus = quota.value() > 0 ? quota.value() : static_cast<double>(host_cpus);
    if (!(cpus > 0)) {
      return make_error(cpu_max_path_ + " is max and " + stat_path_ + " lists no cpuN line");
    }

    Result<CgroupCpuStat> cur = read_cgroup_stat();
    if (!cur) {
      return cur.error_info();
    }
    std::optional<CgroupCpuPercents> out;
    CgroupCpuPercents p;
    if (ctx.once) {
      // The one sleep of a collector: product behaviour of `once`, which runs
      // nothing else meanwhile.
      auto t0 = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(kOnceGap);
      Result<CgroupCpuStat> second = read_cgroup_stat();
      if (!second) {
        return second.error_info();
      }
      double elapsed =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      if (cgroup_cpu_percents(cur.value(), second.value(), elapsed, cpus, &p)) {
        out = p;
      }
    } else if (has_cgroup_prev_) {
      double elapsed =
          std::chrono::duration<double, std::micro>(ctx.now - cgroup_prev_time_).count();
      if (cgroup_cpu_percents(cgroup_prev_, cur.value(), elapsed, cpus, &p)) {
        out = p;
      }
    }
    cgroup_prev_ = cur.value();
    cgroup_prev_time_ = ctx.now;
    has_cgroup_prev_ = true;
    return out;
  }

  CgroupSetting cgroup_;
  std::string procfs_;
  std::string stat_path_;
  CpuTimes prev_;
  bool has_prev_ = false;

  std::string cgroup_dir_;  // empty until resolved
  std::string cpu_stat_path_;
  std::string cpu_max_path_;
  CgroupCpuStat cgroup_prev_;
  MonotonicTime cgroup_prev_time_{};
  bool has_cgroup_prev_ = false;
};

Result<std::unique_ptr<Collector>> create(const CpuOptions& options, const PluginConfig& config) {
  (void)config;
  return std::unique_ptr<Collector>(std::make_unique<CpuCollector>(options.cgroup));
}

}  // namespace

const Plugin kCpuPlugin = {
    .name = "cpu",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .create = create_with<kKeys, create>,
};

}  // namespace vigil
