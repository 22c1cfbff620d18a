#include "plugins/exec/exec.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "command", .type = ValueType::kString, .required = true, .help = "the command, split into words as a shell would, without expansion"},
};

constexpr std::span<const std::string_view> kMetrics = {};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin exec is not built yet");
}

}  // namespace

const Plugin kExecPlugin = {
    .name = "exec",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = false,
    
    .create = create,
};

}  // namespace vigil
