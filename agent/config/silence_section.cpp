#include "agent/config/section_keys.h"
#include "agent/config/sections.h"
#include "agent/silences/silence.h"
#include "agent/silences/weekly_window.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

// What the [silence] keys fill: the section, and the lines of the keys that
// exclude or complete each other, to report a conflict where it is.
struct SilenceKeys : SilenceConfig {
  std::vector<Matcher> matchers;
  std::optional<Entry> starts_line, ends_line;
  SystemTime starts_at{}, ends_at{};
};

Status add_match(SilenceKeys& keys, const Entry& e) {
  Result<Matcher> m = parse_matcher(trim(e.value));
  if (!m.ok()) {
    return make_error("match: " + m.error());
  }
  keys.match.push_back(m->text());
  keys.matchers.push_back(std::move(m).value());
  return {};
}

Status set_comment(SilenceKeys& keys, const Entry& e) {
  keys.comment = std::string(trim(e.value));
  return {};
}

// starts or ends: an RFC 3339 time.
template <bool kStarts>
Status set_time(SilenceKeys& keys, const Entry& e) {
  std::string text(trim(e.value));
  SystemTime t{};
  const char* name = kStarts ? "starts" : "ends";
  if (!parse_rfc3339(text, &t)) {
    return make_error(std::string(name) + ": '" + text +
                      "' is not an RFC 3339 time (2026-11-24T02:00:00Z)");
  }
  (kStarts ? keys.starts : keys.ends) = text;
  (kStarts ? keys.starts_at : keys.ends_at) = t;
  (kStarts ? keys.starts_line : keys.ends_line) = e;
  return {};
}

Status set_weekly(SilenceKeys& keys, const Entry& e) {
  Result<WeeklyWindow> w = parse_weekly(trim(e.value));
  if (!w.ok()) {
    return w.error_info();
  }
  keys.weekly = std::string(trim(e.value));
  return {};
}

const KeyTable<SilenceKeys>& silence_key_table() {
  static const KeyTable<SilenceKeys> kTable = {
      key<SilenceKeys>("match", ValueType::kString, add_match)
          .required()
          .repeatable()
          .help("a matcher: `check=NAME`, `check!=NAME`, `check=~REGEX` (the whole name), "
                "`check!~REGEX`, on `check`, `plugin`, `severity` or `tag.KEY`; an incident "
                "is muted when all match"),
      key<SilenceKeys>("comment", ValueType::kString, set_comment)
          .default_text("maintenance window NAME")
          .help("why, shown with the silence"),
      key<SilenceKeys>("starts", ValueType::kString, set_time<true>)
          .help("RFC 3339 time the window opens (with `ends`; not with `weekly`)"),
      key<SilenceKeys>("ends", ValueType::kString, set_time<false>)
          .help("RFC 3339 time the window closes"),
      key<SilenceKeys>("weekly", ValueType::kString, set_weekly)
          .help("`DAY HH:MM DURATION` in UTC, every week: `Sun 02:00 2h`"),
  };
  return kTable;
}

// The keys that only make sense together: starts with ends, or weekly alone. A
// key whose value was refused at its line still counts as given here, so that
// one mistake gives one error.
void check_times(const ParsedSection& parsed, const SilenceKeys& keys, ConfigErrors* errors) {
  const Section& s = parsed.section;
  auto given = [&](const char* k) {
    return s.find(k) != nullptr || parsed.broken_keys.count(k) > 0;
  };
  if (given("weekly")) {
    for (const char* k : {"starts", "ends"}) {
      if (const Entry* e = s.find(k)) {
        add_error(errors, e->file, e->line,
                  std::string(k) + ": a window is weekly or has starts and ends, not both");
      }
    }
    return;
  }
  if (!given("starts") && !given("ends")) {
    add_error(errors, s.file, s.line,
              section_label(s) + " needs weekly, or starts and ends (RFC 3339 times)");
    return;
  }
  if (!given("starts") || !given("ends")) {
    add_error(errors, s.file, s.line,
              section_label(s) + " needs both starts and ends (or weekly instead)");
    return;
  }
  if (keys.starts_line && keys.ends_line && keys.ends_at <= keys.starts_at) {
    add_error(errors, keys.ends_line->file, keys.ends_line->line,
              "ends: the window must end after it starts");
  }
}

}  // namespace

std::span<const KeySpec> silence_key_specs() { return silence_key_table().keys(); }

SilenceConfig build_silence(const ParsedSection& parsed, ConfigErrors* errors) {
  const Section& s = parsed.section;
  const KeyTable<SilenceKeys>& table = silence_key_table();
  SilenceKeys keys;
  (void)table.apply_defaults(&keys);
  bool clean = fill_section(parsed, {table.target(&keys)}, errors);
  check_times(parsed, keys, errors);
  if (clean && parsed.broken_keys.count("match") == 0 && !keys.matchers.empty()) {
    if (Status st = check_matchers(keys.matchers); !st.ok()) {
      std::vector<const Entry*> lines = s.all("match");
      const Entry* first = lines.empty() ? nullptr : lines.front();
      add_error(errors, first != nullptr ? first->file : s.file,
                first != nullptr ? first->line : s.line, "match: " + st.error());
    }
  }
  SilenceConfig out = std::move(static_cast<SilenceConfig&>(keys));
  out.name = s.name;
  out.file = s.file;
  out.line = s.line;
  if (out.comment.empty()) {
    out.comment = "maintenance window " + s.name;
  }
  return out;
}

}  // namespace vigil
