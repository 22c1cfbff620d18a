#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/plugin/collector.h"

namespace vigil::test {

using KeyLines = std::vector<std::pair<std::string, std::string>>;

// A `[type name]` section at `file`:`line`, one line per key after it, as the
// configuration loader hands it over.
inline Section make_section(std::string type, const KeyLines& keys, std::string file = "vigil.ini",
                            int line = 1, std::string name = {}) {
  Section s;
  s.type = std::move(type);
  s.name = std::move(name);
  s.file = std::move(file);
  s.line = line;
  for (const auto& [k, v] : keys) {
    s.entries.push_back(Entry{k, v, s.file, ++line});
  }
  return s;
}

// Builds a plugin's collector from `key = value` lines (file vigil.ini, the
// section at line 1).
inline std::unique_ptr<Collector> make_collector(const Plugin& plugin, const KeyLines& keys = {}) {
  Section s = make_section(std::string(plugin.name), keys);
  PluginConfig config{s, plugin.name, "/proc", "/sys"};
  Result<std::unique_ptr<Collector>> c = plugin.create(config);
  REQUIRE(c.ok());
  return std::move(c.value());
}

// A metric the sample must have.
inline double metric(const Sample& s, std::string_view name) {
  const double* v = s.find(name);
  REQUIRE(v != nullptr);
  return *v;
}

}  // namespace vigil::test
