#include "plugins/log/log.h"

#include <utility>

#include "agent/util/strings.h"
#include "plugins/log/line_matcher.h"
#include "plugins/log/log_collector.h"

namespace vigil {
namespace {

constexpr KeySpec kKeys[] = {
    {.name = "path",
     .type = ValueType::kPath,
     .required = true,
     .repeatable = true,
     .help = "file or glob"},
    {.name = "match",
     .type = ValueType::kRegex,
     .required = true,
     .repeatable = true,
     .help = "regex; a line matching any counts"},
    {.name = "exclude",
     .type = ValueType::kRegex,
     .repeatable = true,
     .help = "regex; matching lines are dropped"},
    {.name = "window",
     .type = ValueType::kDuration,
     .default_text = "1m",
     .help = "matches are counted over this window"},
    {.name = "from",
     .type = ValueType::kChoice,
     .default_text = "end",
     .help = "where to start in files seen the first time",
     .choices = "end,beginning"},
    {.name = "severity",
     .type = ValueType::kChoice,
     .default_text = "warning",
     .help = "state when matches > 0 and no rule is given",
     .choices = "warning,critical"},
    {.name = "max_line",
     .type = ValueType::kSize,
     .default_text = "16KiB",
     .help = "longest line kept; the rest is skipped and counted"},
    {.name = "rotate_wait",
     .type = ValueType::kDuration,
     .default_text = "5s",
     .help = "how long a renamed file is kept open"},
};

constexpr std::string_view kMetrics[] = {"matches", "lines"};

std::vector<PatternText> patterns(const Section& s, std::string_view key) {
  std::vector<PatternText> out;
  for (const Entry* e : s.all(key)) {
    out.push_back(PatternText{e->value, e->file, e->line});
  }
  return out;
}

// Reads a duration key, or its default when absent.
Result<Duration> duration_key(const Section& s, std::string_view key, Duration fallback) {
  const Entry* e = s.find(key);
  if (e == nullptr) {
    return fallback;
  }
  auto d = parse_duration(e->value);
  if (!d.ok()) {
    return make_error_at(e->file, e->line, std::string(key) + ": " + d.error());
  }
  return d.value();
}

Result<std::unique_ptr<Collector>> create(const PluginConfig& config) {
  const Section& s = config.section;
  LogOptions options;
  for (const Entry* e : s.all("path")) {
    if (e->value.empty()) {
      return make_error_at(e->file, e->line, "path: empty");
    }
    options.globs.push_back(e->value);
  }
  if (options.globs.empty()) {
    return make_error_at(s.file, s.line, "missing required key 'path'");
  }
  std::vector<PatternText> match = patterns(s, "match");
  if (match.empty()) {
    return make_error_at(s.file, s.line, "missing required key 'match'");
  }
  auto window = duration_key(s, "window", options.window);
  if (!window.ok()) {
    return window.error_info();
  }
  options.window = window.value();
  auto rotate_wait = duration_key(s, "rotate_wait", options.rotate_wait);
  if (!rotate_wait.ok()) {
    return rotate_wait.error_info();
  }
  options.rotate_wait = rotate_wait.value();
  if (const Entry* e = s.find("from")) {
    if (e->value != "end" && e->value != "beginning") {
      return make_error_at(e->file, e->line, "from: expected end or beginning");
    }
    options.from_beginning = e->value == "beginning";
  }
  if (const Entry* e = s.find("severity")) {
    if (e->value != "warning" && e->value != "critical") {
      return make_error_at(e->file, e->line, "severity: expected warning or critical");
    }
  }
  if (const Entry* e = s.find("max_line")) {
    auto size = parse_size(e->value);
    if (!size.ok()) {
      return make_error_at(e->file, e->line, "max_line: " + size.error());
    }
    if (size.value() == 0) {
      return make_error_at(e->file, e->line, "max_line: must be at least 1 byte");
    }
    options.max_line = static_cast<size_t>(size.value());
  }
  auto matcher = LineMatcher::create(match, patterns(s, "exclude"));
  if (!matcher.ok()) {
    return matcher.error_info();
  }
  return std::unique_ptr<Collector>(
      std::make_unique<LogCollector>(std::move(options), std::move(matcher.value())));
}

}  // namespace

const Plugin kLogPlugin = {
    .name = "log",
    .keys = kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .counts_lines = true,
    .default_rule = "matches > 0",
    .severity_key = "severity",
    .create = create,
};

}  // namespace vigil
