#include "plugins/memory/memory.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "cgroup", .type = ValueType::kString, .help = "auto, or a cgroup v2 folder: figures relative to its memory.max"},
};

constexpr std::string_view kMetrics[] = {"used_percent", "available_bytes", "available_percent", "swap_used_percent"};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin memory is not built yet");
}

}  // namespace

const Plugin kMemoryPlugin = {
    .name = "memory",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = false,
    
    .create = create,
};

}  // namespace vigil
