#include "plugins/journal/journal.h"

#include <sys/stat.h>

#include <cstring>
#include <utility>

#include "agent/util/line_matcher.h"
#include "agent/util/strings.h"
#include "plugins/journal/journal_collector.h"
#include "plugins/journal/journal_filter.h"
#include "plugins/journal/journal_library.h"

namespace vigil {
namespace {

const KeyTable<JournalOptions> kKeys = {
    key<JournalOptions>("match", ValueType::kString,
                        [](JournalOptions& o, const Entry& e) -> Status {
                          Entry m = e;
                          m.value = std::string(trim(e.value));
                          if (Status st = check_field_match(m.value); !st.ok()) {
                            return st;
                          }
                          o.match.push_back(std::move(m));
                          return {};
                        })
        .repeatable()
        .help("journal field match FIELD=VALUE, e.g. `_SYSTEMD_UNIT=nginx.service`; matches of "
              "one field are alternatives, of different fields must all hold"),
    key("grep", &JournalOptions::grep)
        .regex()
        .help("regex (PCRE2) on MESSAGE; an entry whose MESSAGE matches any counts (every "
              "selected entry counts without `grep`)"),
    key<JournalOptions>("priority", ValueType::kString,
                        [](JournalOptions& o, const Entry& e) -> Status {
                          std::optional<int> p = parse_priority(trim(e.value));
                          if (!p.has_value()) {
                            return make_error("priority: unknown priority '" + e.value +
                                              "' (emerg, alert, crit, err, warning, notice, "
                                              "info, debug, or 0 to 7)");
                          }
                          o.priority = p;
                          return {};
                        })
        .default_text("any")
        .help("highest syslog priority kept: `err` keeps emerg, alert, crit and err (0-3)"),
    key("path", &JournalOptions::path)
        .path()
        .default_text("the local machine's journal")
        .help("a journal folder (journal files, or machine-id folders of them), e.g. "
              "/host/var/log/journal in a sidecar"),
    key<JournalOptions>("from", ValueType::kChoice,
                        [](JournalOptions& o, const Entry& e) -> Status {
                          o.from_beginning = trim(e.value) == "beginning";
                          return {};
                        })
        .choices("end,beginning")
        .default_value("end")
        .help("where the check starts the first time it runs (it resumes at its cursor later)"),
    key("window", &JournalOptions::window)
        .default_value("1m")
        .help("`matches` counts the matching entries of this sliding window"),
    // Read by the core, which gives a check without rules `matches > 0` at this state.
    key<JournalOptions>("severity", ValueType::kChoice)
        .choices("warning,critical")
        .default_value("warning")
        .help("state of a check without rules while `matches > 0`"),
};

constexpr std::string_view kMetrics[] = {"matches", "lines"};
constexpr std::string_view kLosses[] = {"log_bytes_skipped"};

Result<std::unique_ptr<Collector>> create(const JournalOptions& options,
                                          const PluginConfig& config) {
  const Section& s = config.section;
  if (options.match.empty() && options.grep.empty() && !options.priority.has_value()) {
    return make_error_at(s.file, s.line,
                         "a journal check needs `match`, `grep` or `priority` (`priority = "
                         "debug` keeps every entry)");
  }
  if (options.priority.has_value()) {
    for (const Entry& m : options.match) {
      if (match_field(m.value) == "PRIORITY") {
        return make_error_at(m.file, m.line,
                             "match: PRIORITY is what `priority` sets; use one of the two");
      }
    }
  }
  std::optional<LineMatcher> grep;
  if (!options.grep.empty()) {
    std::vector<PatternText> patterns;
    for (const Entry& e : options.grep) {
      patterns.push_back(PatternText{e.value, e.file, e.line});
    }
    auto matcher = LineMatcher::create(patterns, {});
    if (!matcher.ok()) {
      return matcher.error_info();
    }
    grep = std::move(matcher.value());
  }
  return std::unique_ptr<Collector>(
      std::make_unique<JournalCollector>(std::string(config.check_name), options, std::move(grep)));
}

// check-config only: libsystemd must load (a journal check cannot run without
// it), and a `path` must be a folder.
std::vector<Error> check(const JournalOptions& options, const PluginConfig& config) {
  std::vector<Error> errors;
  const Section& s = config.section;
  if (Result<const JournalLibrary*> lib = journal_library(); !lib.ok()) {
    errors.push_back(
        make_error_at(s.file, s.line, "journal checks need libsystemd: " + lib.error()));
  }
  if (!options.path.empty()) {
    const Entry* e = s.find("path");
    struct stat st {};
    std::string problem;
    if (stat(options.path.c_str(), &st) != 0) {
      problem = strerror(errno);
    } else if (!S_ISDIR(st.st_mode)) {
      problem = "not a folder";
    }
    if (!problem.empty()) {
      errors.push_back(make_error_at(e != nullptr ? e->file : s.file,
                                     e != nullptr ? e->line : s.line,
                                     "path: " + options.path + ": " + problem));
    }
  }
  return errors;
}

}  // namespace

const Plugin kJournalPlugin = {
    .name = "journal",
    .keys = &kKeys,
    .metrics = kMetrics,
    .may_block = false,
    .counts_occurrences = true,
    .losses = kLosses,
    .default_rule = "matches > 0",
    .severity_key = "severity",
    .create = create_with<kKeys, create>,
    .check = check_with<kKeys, check>,
};

}  // namespace vigil
