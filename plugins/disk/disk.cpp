#include "plugins/disk/disk.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "path", .type = ValueType::kPath, .required = true, .help = "a path on the file system to watch"},
};

constexpr std::string_view kMetrics[] = {"used_percent", "free_bytes", "inodes_used_percent", "readonly"};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin disk is not built yet");
}

}  // namespace

const Plugin kDiskPlugin = {
    .name = "disk",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = true,
    
    .create = create,
};

}  // namespace vigil
