#include "plugins/log/log.h"

#include <utility>

#include "agent/util/line_matcher.h"
#include "agent/util/strings.h"
#include "plugins/log/log_collector.h"

namespace vigil {
namespace {

const KeyTable<LogOptions> kKeys = {
    key("path", &LogOptions::globs)
        .path()
        .required()
        .help("file or glob; re-expanded at each collection"),
    key("match", &LogOptions::match)
        .regex()
        .required()
        .help("regex (PCRE2); a line matching any counts"),
    key("exclude", &LogOptions::exclude)
        .regex()
        .help("regex; a matching line does not count as a match"),
    key("window", &LogOptions::window)
        .default_value("1m")
        .help("`matches` counts the matching lines of this sliding window"),
    key<LogOptions>("from", ValueType::kChoice,
                    [](LogOptions& o, const Entry& e) -> Status {
                      o.from_beginning = trim(e.value) == "beginning";
                      return {};
                    })
        .choices("end,beginning")
        .default_value("end")
        .help("where to start in files present when the agent first sees a `path`"),
    // Read by the core, which gives a check without rules `matches > 0` at this state.
    key<LogOptions>("severity", ValueType::kChoice)
        .choices("warning,critical")
        .default_value("warning")
        .help("state of a check without rules while `matches > 0`"),
    key("max_line", &LogOptions::max_line)
        .default_value("16KiB")
        .at_least("1")
        .help("longest line kept; the rest of a longer line is skipped and counted"),
    key("rotate_wait", &LogOptions::rotate_wait)
        .default_value("5s")
        .help("how long a renamed or deleted file stays open after it stopped growing"),
};

constexpr std::string_view kMetrics[] = {"matches", "lines"};

std::vector<PatternText> patterns(const std::vector<Entry>& lines) {
  std::vector<PatternText> out;
  for (const Entry& e : lines) {
    out.push_back(PatternText{e.value, e.file, e.line});
  }
  return out;
}

Result<std::unique_ptr<Collector>> create(const LogOptions& options, const PluginConfig& config) {
  (void)config;
  auto matcher = LineMatcher::create(patterns(options.match), patterns(options.exclude));
  if (!matcher.ok()) {
    return matcher.error_info();
  }
  return std::unique_ptr<Collector>(
      std::make_unique<LogCollector>(options, std::move(matcher.value())));
}

constexpr std::string_view kLosses[] = {"log_bytes_skipped"};

}  // namespace

const Plugin kLogPlugin = {
    .name = "log",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .counts_occurrences = true,
    .losses = kLosses,
    .default_rule = "matches > 0",
    .severity_key = "severity",
    .create = create_with<kKeys, create>,
};

}  // namespace vigil
