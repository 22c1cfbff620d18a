#include "plugins/process/process.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "name", .type = ValueType::kString, .help = "exact comm (at most 15 bytes)"},
    {.name = "cmdline", .type = ValueType::kRegex, .help = "regex on the command line"},
    {.name = "pidfile", .type = ValueType::kPath, .help = "file holding the pid"},
    {.name = "user", .type = ValueType::kString, .help = "user name or uid"},
    {.name = "window", .type = ValueType::kDuration, .default_text = "10m", .help = "restarts are counted over this window"},
};

constexpr std::string_view kMetrics[] = {"count", "cpu_percent", "rss_bytes", "fds", "threads", "zombies", "restarts", "uptime_seconds"};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin process is not built yet");
}

}  // namespace

const Plugin kProcessPlugin = {
    .name = "process",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = false,
    
    .create = create,
};

}  // namespace vigil
