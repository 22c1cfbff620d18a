#include "plugins/load/load.h"

namespace vigil {
namespace {

constexpr std::span<const KeySpec> kKeys = {};

constexpr std::string_view kMetrics[] = {"load1", "load5", "load15", "load1_per_cpu"};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin load is not built yet");
}

}  // namespace

const Plugin kLoadPlugin = {
    .name = "load",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = false,
    
    .create = create,
};

}  // namespace vigil
