#include "plugins/load/load.h"

#include "agent/util/host_text.h"
#include "agent/util/proc_stat.h"
#include "plugins/load/loadavg.h"

namespace vigil {
namespace {

constexpr std::string_view kMetrics[] = {"load1", "load5", "load15", "load1_per_cpu"};

// The load average of <procfs>/loadavg. load1_per_cpu divides by the `cpuN`
// lines of <procfs>/stat, counted by the cpu plugin's parser, so that the two
// plugins agree on the machine's CPUs (the online ones: hot-plugged CPUs come
// and go from that list).
class LoadCollector final : public Collector {
 public:
  Result<Sample> read(const CollectContext& ctx) override {
    if (ctx.procfs != procfs_) {
      // Paths are built once per root, not per collection.
      procfs_ = ctx.procfs;
      loadavg_path_ = procfs_ + "/loadavg";
      stat_path_ = procfs_ + "/stat";
    }
    char buf[256];
    Result<std::string_view> text = host_text::read_small_file(loadavg_path_, buf);
    if (!text) {
      return text.error_info();
    }
    Result<LoadAverage> load = parse_loadavg(text.value());
    if (!load) {
      return make_error(loadavg_path_ + ": " + load.error());
    }
    Result<ProcStat> stat = read_proc_stat(stat_path_, /*count_cpus=*/true);
    if (!stat) {
      return stat.error_info();
    }
    if (stat->cpu_count == 0) {
      return make_error(stat_path_ + ": no cpuN line to divide load1 by");
    }
    Sample sample;
    sample.metrics.reserve(std::size(kMetrics));
    sample.set("load1", load->load1);
    sample.set("load5", load->load5);
    sample.set("load15", load->load15);
    sample.set("load1_per_cpu", load->load1 / static_cast<double>(stat->cpu_count));
    return sample;
  }

 private:
  std::string procfs_;
  std::string loadavg_path_;
  std::string stat_path_;
};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  (void)config;
  return std::unique_ptr<Collector>(std::make_unique<LoadCollector>());
}

}  // namespace

const Plugin kLoadPlugin = {
    .name = "load",
    .metrics = kMetrics,
    .may_block = false,
    .create = create,
};

}  // namespace vigil
