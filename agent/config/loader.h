#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"

namespace vigil {

struct LoadOptions {
  // check-config's extra checks (plugin check(): exec commands executable, …).
  bool deep = false;
  // Variable lookup for ${VAR}; getenv when empty.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

struct LoadResult {
  std::optional<Config> config;     // set when errors is empty
  std::vector<ConfigError> errors;  // every error, in file order
};

// Reads the main file, then its includes in sorted order (SPEC §3).
LoadResult load_config(const std::string& path, const LoadOptions& options = {});

// The key tables, for the docs and for check-config (one place, SPEC §3).
std::span<const KeySpec> agent_keys();
std::span<const KeySpec> incident_keys();
std::span<const KeySpec> output_keys();
std::span<const KeySpec> check_keys();  // keys every check has

}  // namespace vigil
