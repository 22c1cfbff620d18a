#pragma once

#include <optional>
#include <string>

#include "agent/config/config.h"

namespace vigil::cli {

// Loads the configuration for run/once/status; on errors logs each
// `FILE:LINE: message` to stderr and returns nullopt.
std::optional<Config> load_or_report(const std::string& config_path);

}  // namespace vigil::cli
