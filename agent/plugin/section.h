#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// One `key = value` line after variable expansion, and where it came from.
struct Entry {
  std::string key;
  std::string value;
  std::string file;
  int line = 0;
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

// One table per section type drives the parser, check-config and the docs, so
// that the three cannot drift.
struct KeySpec {
  std::string_view name;
  ValueType type;
  bool required = false;
  bool repeatable = false;
  std::string_view default_text = {};
  std::string_view help = {};
  std::string_view choices = {};  // kChoice only: "end,beginning"
};

}  // namespace vigil
