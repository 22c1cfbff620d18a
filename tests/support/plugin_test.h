#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/plugin/collector.h"

namespace vigil::test {

// Builds a plugin's collector from `key = value` lines, as the configuration
// loader hands them over (file vigil.ini, the section at line 1).
inline std::unique_ptr<Collector> make_collector(
    const Plugin& plugin, const std::vector<std::pair<std::string, std::string>>& keys = {}) {
  Section s;
  s.type = std::string(plugin.name);
  s.file = "vigil.ini";
  s.line = 1;
  int line = 2;
  for (const auto& [k, v] : keys) {
    s.entries.push_back(Entry{k, v, "vigil.ini", line++});
  }
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
