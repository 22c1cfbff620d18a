#include "agent/silences/matcher.h"

#include <array>

#include "agent/util/regex.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr size_t kMaxValue = 1024;
constexpr std::string_view kTagPrefix = "tag.";
constexpr std::array<std::string_view, 3> kSeverities = {"warning", "critical", "unknown"};

std::string_view op_text(bool is_regex, bool is_equal) {
  if (is_regex) {
    return is_equal ? "=~" : "!~";
  }
  return is_equal ? "=" : "!=";
}

// A tag key as a matcher names it: not empty, and without the characters that
// would make `tag.KEY=VALUE` ambiguous.
bool is_tag_key(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  for (char c : key) {
    if (c == '=' || c == '!' || c == '~' || c == ' ' || c == '\t' ||
        static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view SilenceSubject::label(std::string_view name) const {
  if (name == "check") {
    return check;
  }
  if (name == "plugin") {
    return plugin;
  }
  if (name == "severity") {
    return severity;
  }
  if (starts_with(name, kTagPrefix)) {
    std::string_view key = name.substr(kTagPrefix.size());
    for (const auto& [k, v] : tags) {
      if (k == key) {
        return v;
      }
    }
  }
  return {};
}

bool Matcher::matches_value(std::string_view v) const {
  bool hit = is_regex ? (regex != nullptr && regex->search(v)) : v == value;
  return hit == is_equal;
}

std::string Matcher::text() const {
  return name + std::string(op_text(is_regex, is_equal)) + value;
}

Result<Matcher> make_matcher(std::string name, std::string value, bool is_regex, bool is_equal) {
  Matcher m{std::move(name), std::move(value), is_regex, is_equal, nullptr};
  bool tag = starts_with(m.name, kTagPrefix);
  if (m.name != "check" && m.name != "plugin" && m.name != "severity" &&
      !(tag && is_tag_key(std::string_view(m.name).substr(kTagPrefix.size())))) {
    return make_error("matcher '" + m.text() +
                      "': the name must be check, plugin, severity or tag.KEY");
  }
  if (m.value.size() > kMaxValue) {
    return make_error("matcher '" + m.name + "': the value is longer than " +
                      std::to_string(kMaxValue) + " bytes");
  }
  if (!m.is_regex && m.name == "severity" && !m.value.empty()) {
    bool known = false;
    for (std::string_view s : kSeverities) {
      known = known || m.value == s;
    }
    if (!known) {
      return make_error("matcher '" + m.text() +
                        "': an incident's severity is warning, critical or unknown");
    }
  }
  if (m.is_regex) {
    // Compiled as written first, so that an error's offset is the user's; then
    // anchored, as Alertmanager anchors its regex matchers.
    Result<Regex> plain = Regex::compile(m.value);
    if (!plain.ok()) {
      return make_error("matcher '" + m.text() + "': invalid regex: " + plain.error());
    }
    Result<Regex> anchored = Regex::compile("\\A(?:" + m.value + ")\\z");
    if (!anchored.ok()) {
      return make_error("matcher '" + m.text() + "': invalid regex: " + anchored.error());
    }
    m.regex = std::make_shared<const Regex>(std::move(anchored).value());
  }
  return m;
}

Result<Matcher> parse_matcher(std::string_view text) {
  size_t op = text.find_first_of("=!");
  if (op == std::string_view::npos || op == 0) {
    return make_error("matcher '" + std::string(text) +
                      "': expected NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX");
  }
  bool is_equal = text[op] == '=';
  size_t value_at = op + 1;
  bool is_regex = false;
  if (!is_equal) {
    if (value_at >= text.size() || (text[value_at] != '=' && text[value_at] != '~')) {
      return make_error("matcher '" + std::string(text) + "': expected != or !~ after the name");
    }
    is_regex = text[value_at] == '~';
    ++value_at;
  } else if (value_at < text.size() && text[value_at] == '~') {
    is_regex = true;
    ++value_at;
  }
  return make_matcher(std::string(trim(text.substr(0, op))),
                      std::string(trim(text.substr(value_at))), is_regex, is_equal);
}

}  // namespace vigil
