#include "plugins/testblock/testblock.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "fifo", .type = ValueType::kPath, .required = true, .help = "a FIFO the collection opens; it blocks until a writer opens it"},
};

constexpr std::string_view kMetrics[] = {"value"};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin testblock is not built yet");
}

}  // namespace

const Plugin kTestBlockPlugin = {
    .name = "testblock",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = true,
    
    .create = create,
};

}  // namespace vigil
