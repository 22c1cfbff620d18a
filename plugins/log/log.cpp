#include "plugins/log/log.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "path", .type = ValueType::kPath, .required = true, .repeatable = true, .help = "file or glob"},
    {.name = "match", .type = ValueType::kRegex, .required = true, .repeatable = true, .help = "regex; a line matching any counts"},
    {.name = "exclude", .type = ValueType::kRegex, .repeatable = true, .help = "regex; matching lines are dropped"},
    {.name = "window", .type = ValueType::kDuration, .default_text = "1m", .help = "matches are counted over this window"},
    {.name = "from", .type = ValueType::kChoice, .default_text = "end", .help = "where to start in files seen the first time", .choices = "end,beginning"},
    {.name = "severity", .type = ValueType::kChoice, .default_text = "warning", .help = "state when matches > 0 and no rule is given", .choices = "warning,critical"},
    {.name = "max_line", .type = ValueType::kSize, .default_text = "16KiB", .help = "longest line kept; the rest is skipped and counted"},
    {.name = "rotate_wait", .type = ValueType::kDuration, .default_text = "5s", .help = "how long a renamed file is kept open"},
};

constexpr std::string_view kMetrics[] = {"matches", "lines"};

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  return make_error_at(config.section.file, config.section.line, "plugin log is not built yet");
}

}  // namespace

const Plugin kLogPlugin = {
    .name = "log",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .default_rule = "matches > 0",
    .severity_key = "severity",
    .create = create,
};

}  // namespace vigil
