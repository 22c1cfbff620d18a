#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// One `key = value` line after variable expansion, and where it came from.
struct Entry {
  std::string key;
  std::string value;
  std::string file;
  int line = 0;

  bool operator==(const Entry&) const = default;
};

// One `[type name]` section as read, keys in file order.
struct Section {
  std::string type;  // agent, incidents, output, or a plugin name
  std::string name;  // NAME of `[type NAME]`, empty when not given
  std::string file;
  int line = 0;  // of the `[...]` header
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const {  // the last line with that key
    const Entry* found = nullptr;
    for (const Entry& e : entries) {
      if (e.key == key) {
        found = &e;
      }
    }
    return found;
  }
  std::vector<const Entry*> all(std::string_view key) const {
    std::vector<const Entry*> out;
    for (const Entry& e : entries) {
      if (e.key == key) {
        out.push_back(&e);
      }
    }
    return out;
  }
};

enum class ValueType {
  kString,
  kDuration,  // 250ms, 10s, 5m …
  kSize,      // 512, 64KiB …
  kBool,
  kInt,     // non-negative integer
  kRule,    // METRIC OP VALUE [for D] [clear V]
  kRegex,   // validated by the plugin that compiles it
  kList,    // comma-separated
  kChoice,  // one of `choices` (comma-separated in the spec)
  kPath,
};

// A value as the core parsed it by its key's type: kDuration gives a Duration,
// kSize a uint64_t, kBool a bool, kInt an int, kList its items; every other
// type gives the text as written (kChoice: the choice, trimmed).
using KeyValue = std::variant<std::string, Duration, uint64_t, bool, int, std::vector<std::string>>;

// Stores a parsed value into an options object. `options` points to an object
// of the type of the table the key belongs to: the typed builders of
// agent/plugin/key_table.h make these functions, and only a KeyTable of that
// type hands them an object. A returned error without a place is reported at
// the entry's line, as written (no key prefix is added).
using KeyStore = std::function<Status(const KeyValue& value, const Entry& entry, void* options)>;

// One key of a section: its type, limits, default and help text, and where its
// value goes. One table per section type drives the parser, check-config and
// the docs, so that the three cannot drift.
struct KeySpec {
  std::string_view name;
  ValueType type = ValueType::kString;
  bool required = false;
  bool repeatable = false;
  // The default as the docs show it. When `default_is_value`, it is also the
  // value the core stores before reading the section, parsed like a value
  // written in it; otherwise it only describes what the code does ("system
  // hostname").
  std::string_view default_text = {};
  bool default_is_value = false;
  std::string_view help = {};
  std::string_view choices = {};  // kChoice only: "end,beginning"
  // Limits of durations, sizes and integers, written as values of the key's
  // type ("0", "4KiB"); the core checks them and the docs show them.
  std::string_view greater_than = {};
  std::string_view at_least = {};
  std::string_view at_most = {};
  // Where the value goes; null when the value is only checked (the core reads
  // a plugin's `severity_key` itself).
  KeyStore store;
};

}  // namespace vigil
