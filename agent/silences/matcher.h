#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agent/config/config.h"
#include "agent/util/result.h"

namespace vigil {

class Regex;

// What a silence's matchers see of an incident (docs/SILENCES.md): its check,
// plugin, severity and tags.
struct SilenceSubject {
  std::string check;
  std::string plugin;
  std::string severity;  // warning, critical or unknown
  Tags tags;

  // The value of a matcher's label: `check`, `plugin`, `severity` or
  // `tag.KEY`; "" for a tag the incident does not have, as Alertmanager treats a
  // missing label.
  std::string_view label(std::string_view name) const;
};

// One matcher of a silence, with Alertmanager's fields: `check=disk_root`
// (is_equal, not is_regex), `check!=x`, `check=~disk_.*` (a regex that must
// match the whole value), `check!~tmp.*`.
struct Matcher {
  std::string name;  // check, plugin, severity or tag.KEY
  std::string value;
  bool is_regex = false;
  bool is_equal = true;
  std::shared_ptr<const Regex> regex;  // anchored at both ends; set when is_regex

  bool matches(const SilenceSubject& subject) const { return matches_value(subject.label(name)); }
  bool matches_value(std::string_view value) const;
  // As written on the command line: `check=~disk_.*`.
  std::string text() const;
};

// Checks a matcher given field by field (the API's JSON) and compiles its regex.
// Errors name the matcher and say what is wrong.
Result<Matcher> make_matcher(std::string name, std::string value, bool is_regex, bool is_equal);

// `NAME=VALUE`, `NAME!=VALUE`, `NAME=~REGEX` or `NAME!~REGEX`; white space
// around NAME and VALUE is dropped.
Result<Matcher> parse_matcher(std::string_view text);

}  // namespace vigil
