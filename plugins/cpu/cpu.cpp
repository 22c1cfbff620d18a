#include "plugins/cpu/cpu.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "cgroup", .type = ValueType::kString, .help = "auto, or a cgroup v2 folder: figures relative to its cpu.max"},
};

constexpr std::string_view kMetrics[] = {"usage_percent", "user_percent", "system_percent", "iowait_percent", "steal_percent"};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin cpu is not built yet");
}

}  // namespace

const Plugin kCpuPlugin = {
    .name = "cpu",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = false,
    
    .create = create,
};

}  // namespace vigil
