#include "plugins/memory/memory.h"

#include <utility>

#include "agent/plugin/cgroup_dir.h"
#include "agent/util/host_text.h"
#include "plugins/memory/cgroup_memory.h"
#include "plugins/memory/meminfo.h"

namespace vigil {
namespace {

struct MemoryOptions {
  CgroupSetting cgroup;
};

const KeyTable<MemoryOptions> kKeys = {
    cgroup_key(&MemoryOptions::cgroup)
        .help("`none`: host figures; `auto`: the agent's own cgroup v2 folder (the `0::/PATH` "
              "line of `<procfs>/self/cgroup`, under `<sysfs>/fs/cgroup`; on a cgroup v1 host "
              "the check is unknown and its error says so); or an absolute cgroup v2 folder: "
              "figures relative to its memory.max"),
};

constexpr std::string_view kMetrics[] = {"used_percent", "available_bytes", "available_percent",
                                         "swap_used_percent"};

// Host figures come from /proc/meminfo. With `cgroup`, used and available are
// relative to the cgroup's memory.max instead (the host's MemTotal when it is
// `max`); swap stays a host figure.
class MemoryCollector final : public Collector {
 public:
  explicit MemoryCollector(CgroupSetting cgroup) : cgroup_(std::move(cgroup)) {}

  Result<Sample> read(const CollectContext& ctx) override {
    if (ctx.procfs != procfs_) {
      // Paths are built once per root, not per collection.
      procfs_ = ctx.procfs;
      meminfo_path_ = procfs_ + "/meminfo";
      cgroup_dir_.clear();
    }
    // meminfo is about 1.5 KiB; a larger buffer leaves room for kernels to come.
    char buf[8192];
    Result<std::string_view> text = host_text::read_small_file(meminfo_path_, buf);
    if (!text) {
      return text.error_info();
    }
    Result<MemInfo> info = parse_meminfo(text.value());
    if (!info) {
      return make_error(meminfo_path_ + ": " + info.error());
    }
    Result<MemoryFigures> figures = cgroup_.mode == CgroupSetting::Mode::kHost
                                        ? from_host(info.value())
                                        : from_cgroup(ctx, info.value());
    if (!figures) {
      return figures.error_info();
    }
    Sample sample;
    sample.metrics.reserve(std::size(kMetrics));
    sample.set("used_percent", figures->used_percent);
    sample.set("available_bytes", figures->available_bytes);
    sample.set("available_percent", figures->available_percent);
    sample.set("swap_used_percent", figures->swap_used_percent);
    return sample;
  }

 private:
  Result<MemoryFigures> from_host(const MemInfo& info) const {
    Result<MemoryFigures> figures = host_memory(info);
    if (!figures) {
      return make_error(meminfo_path_ + ": " + figures.error());
    }
    return figures;
  }

  Result<MemoryFigures> from_cgroup(const CollectContext& ctx, const MemInfo& info) {
    if (cgroup_dir_.empty()) {
      Result<std::string> dir = resolve_cgroup_dir(cgroup_, ctx.procfs, ctx.sysfs);
      if (!dir) {
        return dir.error_info();
      }
      cgroup_dir_ = std::move(dir.value());
      current_path_ = cgroup_dir_ + "/memory.current";
      max_path_ = cgroup_dir_ + "/memory.max";
      stat_path_ = cgroup_dir_ + "/memory.stat";
    }
    Result<MemoryFigures> figures = read_cgroup(info);
    if (!figures && cgroup_.mode == CgroupSetting::Mode::kAuto) {
      cgroup_dir_.clear();  // resolve again next time: the agent may have moved
    }
    return figures;
  }

  Result<MemoryFigures> read_cgroup(const MemInfo& info) const {
    char small[128];
    Result<std::string_view> text = host_text::read_small_file(max_path_, small);
    if (!text) {
      return text.error_info();
    }
    bool unlimited = false;
    Result<uint64_t> limit = parse_cgroup_memory_max(text.value(), &unlimited);
    if (!limit) {
      return make_error(max_path_ + ": " + limit.error());
    }
    text = host_text::read_small_file(current_path_, small);
    if (!text) {
      return text.error_info();
    }
    Result<uint64_t> current = parse_cgroup_bytes(text.value());
    if (!current) {
      return make_error(current_path_ + ": " + current.error());
    }
    // memory.stat has some 40 lines, well under 4 KiB.
    char big[8192];
    text = host_text::read_small_file(stat_path_, big);
    if (!text) {
      return text.error_info();
    }
    Result<uint64_t> inactive = parse_inactive_file(text.value());
    if (!inactive) {
      return make_error(stat_path_ + ": " + inactive.error());
    }
    MemoryFigures figures = cgroup_memory(current.value(), inactive.value(),
                                          unlimited ? info.total_bytes : limit.value());
    figures.swap_used_percent = swap_used_percent(info);
    return figures;
  }

  CgroupSetting cgroup_;
  std::string procfs_;
  std::string meminfo_path_;
  std::string cgroup_dir_;  // empty until resolved
  std::string current_path_;
  std::string max_path_;
  std::string stat_path_;
};

Result<std::unique_ptr<Collector>> create(const MemoryOptions& options,
                                          const PluginConfig& config) {
  (void)config;
  return std::unique_ptr<Collector>(std::make_unique<MemoryCollector>(options.cgroup));
}

}  // namespace

const Plugin kMemoryPlugin = {
    .name = "memory",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .create = create_with<kKeys, create>,
};

}  // namespace vigil
