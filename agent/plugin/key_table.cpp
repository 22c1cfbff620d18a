#include "agent/plugin/key_table.h"

#include <cctype>
#include <climits>
#include <map>

#include "agent/util/strings.h"

namespace vigil {
namespace {

std::string choices_text(std::string_view choices) {
  std::string out;
  for (const std::string& c : split_list(choices)) {
    out += out.empty() ? c : ", " + c;
  }
  return out;
}

// How a value compares with a limit written in the key's syntax: below 0, 0 or
// above 0; nullopt when the type has no order or the limit does not parse.
std::optional<int> compare(const KeyValue& value, std::string_view limit) {
  auto order = [](auto a, auto b) { return a < b ? -1 : (b < a ? 1 : 0); };
  if (const auto* d = std::get_if<Duration>(&value)) {
    Result<Duration> l = parse_duration(limit);
    return l.ok() ? std::optional<int>(order(*d, l.value())) : std::nullopt;
  }
  if (const auto* n = std::get_if<uint64_t>(&value)) {
    Result<uint64_t> l = parse_size(limit);
    return l.ok() ? std::optional<int>(order(*n, l.value())) : std::nullopt;
  }
  if (const auto* i = std::get_if<int>(&value)) {
    std::optional<int> l = parse_int(limit);
    return l ? std::optional<int>(order(*i, *l)) : std::nullopt;
  }
  return std::nullopt;
}

Status check_limits(const KeySpec& spec, const KeyValue& value) {
  std::string key(spec.name);
  if (!spec.greater_than.empty()) {
    if (std::optional<int> c = compare(value, spec.greater_than); c && *c <= 0) {
      return make_error(key + ": must be greater than " + std::string(spec.greater_than));
    }
  }
  if (!spec.at_least.empty()) {
    if (std::optional<int> c = compare(value, spec.at_least); c && *c < 0) {
      return make_error(key + ": must be at least " + std::string(spec.at_least));
    }
  }
  if (!spec.at_most.empty()) {
    if (std::optional<int> c = compare(value, spec.at_most); c && *c > 0) {
      return make_error(key + ": must be at most " + std::string(spec.at_most));
    }
  }
  return {};
}

struct Found {
  const KeySpec* spec = nullptr;
  void* options = nullptr;
};

Found find_key(std::span<const KeyTarget> targets, std::string_view key) {
  for (const KeyTarget& t : targets) {
    for (const KeySpec& spec : t.keys) {
      if (spec.name == key) {
        return Found{&spec, t.options};
      }
    }
  }
  return {};
}

// Parses and stores one line; the error, if any, carries the line's place.
std::optional<Error> store_entry(const KeySpec& spec, const Entry& e, void* options) {
  Result<KeyValue> value = parse_key_value(spec, e.value);
  if (!value.ok()) {
    return make_error_at(e.file, e.line, value.error());
  }
  if (!spec.store) {
    return std::nullopt;
  }
  Status st = spec.store(value.value(), e, options);
  if (st.ok()) {
    return std::nullopt;
  }
  Error err = st.error_info();
  if (err.file.empty()) {
    err.file = e.file;
    err.line = e.line;
  }
  return err;
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

Result<KeyValue> parse_key_value(const KeySpec& spec, std::string_view value) {
  std::string key(spec.name);
  KeyValue out;
  switch (spec.type) {
    case ValueType::kDuration: {
      Result<Duration> d = parse_duration(value);
      if (!d.ok()) {
        return make_error(key + ": " + d.error());
      }
      out = d.value();
      break;
    }
    case ValueType::kSize: {
      Result<uint64_t> s = parse_size(value);
      if (!s.ok()) {
        return make_error(key + ": " + s.error());
      }
      out = s.value();
      break;
    }
    case ValueType::kBool: {
      Result<bool> b = parse_bool(value);
      if (!b.ok()) {
        return make_error(key + ": " + b.error());
      }
      out = b.value();
      break;
    }
    case ValueType::kInt: {
      std::optional<int> n = parse_int(value);
      if (!n) {
        return make_error(key + ": invalid integer '" + std::string(value) +
                          "' (a whole number, 0 or more)");
      }
      out = *n;
      break;
    }
    case ValueType::kChoice: {
      bool found = false;
      for (const std::string& c : split_list(spec.choices)) {
        if (c == trim(value)) {
          out = c;
          found = true;
          break;
        }
      }
      if (!found) {
        return make_error(key + ": invalid value '" + std::string(value) + "' (use " +
                          choices_text(spec.choices) + ")");
      }
      break;
    }
    case ValueType::kPath:
      if (trim(value).empty()) {
        return make_error(key + ": empty path");
      }
      out = std::string(value);
      break;
    case ValueType::kList:
      out = split_list(value);
      break;
    case ValueType::kString:
    case ValueType::kRule:   // checked by the key's store: the rule parser is the core's
    case ValueType::kRegex:  // checked by the plugin that compiles it
      out = std::string(value);
      break;
  }
  if (Status st = check_limits(spec, out); !st.ok()) {
    return st.error_info();
  }
  return out;
}

std::vector<Error> fill_keys(const Section& s, std::span<const KeyTarget> targets,
                             const FillOptions& options) {
  std::vector<Error> errors;
  std::map<std::string, int> first_line;
  for (const Entry& e : s.entries) {
    Found found = find_key(targets, e.key);
    if (found.spec == nullptr) {
      if (options.unknown_keys_are_errors) {
        errors.push_back(
            make_error_at(e.file, e.line, "unknown key '" + e.key + "' in " + section_label(s)));
      }
      continue;
    }
    auto [it, inserted] = first_line.emplace(e.key, e.line);
    if (!inserted && !found.spec->repeatable) {
      errors.push_back(make_error_at(
          e.file, e.line,
          "duplicate key '" + e.key + "' (first at line " + std::to_string(it->second) +
              "; only warning, critical and keys marked repeatable may repeat)"));
      continue;
    }
    if (std::optional<Error> err = store_entry(*found.spec, e, found.options)) {
      errors.push_back(std::move(*err));
    }
  }
  if (options.given != nullptr) {
    for (const std::string& key : *options.given) {
      first_line.emplace(key, 0);
    }
  }
  for (const KeyTarget& t : targets) {
    for (const KeySpec& spec : t.keys) {
      if (spec.required && first_line.count(std::string(spec.name)) == 0) {
        errors.push_back(make_error_at(
            s.file, s.line,
            "missing required key '" + std::string(spec.name) + "' in " + section_label(s)));
      }
    }
  }
  return errors;
}

Status apply_defaults(std::span<const KeySpec> keys, void* options) {
  for (const KeySpec& spec : keys) {
    if (!spec.default_is_value) {
      continue;
    }
    Entry e{std::string(spec.name), std::string(spec.default_text), {}, 0};
    if (std::optional<Error> err = store_entry(spec, e, options)) {
      return make_error("default of " + std::string(spec.name) + ": " + err->message);
    }
  }
  return {};
}

const KeySpec* KeyTableBase::find(std::string_view name) const {
  for (const KeySpec& k : keys_) {
    if (k.name == name) {
      return &k;
    }
  }
  return nullptr;
}

Result<PluginOptions> KeyTableBase::fill(const Section& section) const {
  PluginOptions options = make();
  KeyTarget target{keys_, options.data()};
  FillOptions fill;
  fill.unknown_keys_are_errors = false;
  std::vector<Error> errors = fill_keys(section, std::span<const KeyTarget>(&target, 1), fill);
  if (!errors.empty()) {
    return errors.front();
  }
  return options;
}

}  // namespace vigil
