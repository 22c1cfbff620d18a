#include "agent/config/section_keys.h"

#include <cctype>
#include <climits>
#include <map>

#include "agent/rules/rule.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

const KeySpec* find_spec(std::initializer_list<std::span<const KeySpec>> tables,
                         std::string_view key) {
  for (std::span<const KeySpec> table : tables) {
    for (const KeySpec& spec : table) {
      if (spec.name == key) {
        return &spec;
      }
    }
  }
  return nullptr;
}

std::string choices_text(std::string_view choices) {
  std::string out;
  for (const std::string& c : split_list(choices)) {
    out += out.empty() ? c : ", " + c;
  }
  return out;
}

}  // namespace

std::string section_label(const Section& section) {
  return "[" + section.type + (section.name.empty() ? "" : " " + section.name) + "]";
}

std::optional<int> parse_int(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty() || s.size() > 10) {
    return std::nullopt;
  }
  long long v = 0;
  for (char c : s) {
    if (isdigit(static_cast<unsigned char>(c)) == 0) {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  if (v > INT_MAX) {
    return std::nullopt;
  }
  return static_cast<int>(v);
}

Status check_value(const KeySpec& spec, std::string_view value) {
  std::string key(spec.name);
  switch (spec.type) {
    case ValueType::kDuration: {
      Result<Duration> d = parse_duration(value);
      if (!d.ok()) {
        return make_error(key + ": " + d.error());
      }
      if ((spec.name == "interval" || spec.name == "timeout") && d.value().count() <= 0) {
        return make_error(key + ": must be greater than 0");
      }
      return {};
    }
    case ValueType::kSize: {
      Result<uint64_t> s = parse_size(value);
      if (!s.ok()) {
        return make_error(key + ": " + s.error());
      }
      return {};
    }
    case ValueType::kBool: {
      Result<bool> b = parse_bool(value);
      if (!b.ok()) {
        return make_error(key + ": " + b.error());
      }
      return {};
    }
    case ValueType::kInt:
      if (!parse_int(value)) {
        return make_error(key + ": invalid integer '" + std::string(value) +
                          "' (a whole number, 0 or more)");
      }
      return {};
    case ValueType::kRule: {
      Result<Rule> r = parse_rule(value);
      if (!r.ok()) {
        return make_error(key + ": " + r.error());
      }
      return {};
    }
    case ValueType::kChoice:
      for (const std::string& c : split_list(spec.choices)) {
        if (c == trim(value)) {
          return {};
        }
      }
      return make_error(key + ": invalid value '" + std::string(value) + "' (use " +
                        choices_text(spec.choices) + ")");
    case ValueType::kPath:
      if (trim(value).empty()) {
        return make_error(key + ": empty path");
      }
      return {};
    case ValueType::kString:
    case ValueType::kRegex:
    case ValueType::kList:
      return {};
  }
  return {};
}

bool check_section_keys(const ParsedSection& parsed,
                        std::initializer_list<std::span<const KeySpec>> tables,
                        ConfigErrors* errors) {
  const Section& s = parsed.section;
  size_t before = errors->size();
  std::map<std::string, int> first_line;
  for (const Entry& e : s.entries) {
    const KeySpec* spec = find_spec(tables, e.key);
    if (spec == nullptr) {
      add_error(errors, e.file, e.line, "unknown key '" + e.key + "' in " + section_label(s));
      continue;
    }
    auto [it, inserted] = first_line.emplace(e.key, e.line);
    if (!inserted && !spec->repeatable) {
      add_error(errors, e.file, e.line,
                "duplicate key '" + e.key + "' (first at line " + std::to_string(it->second) +
                    "; only warning, critical and keys marked repeatable may repeat)");
      continue;
    }
    if (Status st = check_value(*spec, e.value); !st.ok()) {
      add_error(errors, e.file, e.line, st.error());
    }
  }
  for (const std::string& key : parsed.broken_keys) {
    if (find_spec(tables, key) == nullptr) {
      // The line had its own error already; an unknown key on it adds nothing.
      continue;
    }
    first_line.emplace(key, 0);
  }
  for (std::span<const KeySpec> table : tables) {
    for (const KeySpec& spec : table) {
      if (spec.required && first_line.count(std::string(spec.name)) == 0) {
        add_error(errors, s.file, s.line,
                  "missing required key '" + std::string(spec.name) + "' in " + section_label(s));
      }
    }
  }
  return errors->size() == before;
}

namespace {

const Entry* last_entry(const Section& s, std::string_view key) { return s.find(key); }

}  // namespace

std::optional<Duration> duration_value(const Section& s, std::string_view key) {
  const Entry* e = last_entry(s, key);
  if (e == nullptr) {
    return std::nullopt;
  }
  Result<Duration> d = parse_duration(e->value);
  return d.ok() ? std::optional<Duration>(d.value()) : std::nullopt;
}

std::optional<uint64_t> size_value(const Section& s, std::string_view key) {
  const Entry* e = last_entry(s, key);
  if (e == nullptr) {
    return std::nullopt;
  }
  Result<uint64_t> v = parse_size(e->value);
  return v.ok() ? std::optional<uint64_t>(v.value()) : std::nullopt;
}

std::optional<bool> bool_value(const Section& s, std::string_view key) {
  const Entry* e = last_entry(s, key);
  if (e == nullptr) {
    return std::nullopt;
  }
  Result<bool> v = parse_bool(e->value);
  return v.ok() ? std::optional<bool>(v.value()) : std::nullopt;
}

std::optional<int> int_value(const Section& s, std::string_view key) {
  const Entry* e = last_entry(s, key);
  if (e == nullptr) {
    return std::nullopt;
  }
  return parse_int(e->value);
}

std::optional<std::string> string_value(const Section& s, std::string_view key) {
  const Entry* e = last_entry(s, key);
  if (e == nullptr) {
    return std::nullopt;
  }
  return e->value;
}

}  // namespace vigil
