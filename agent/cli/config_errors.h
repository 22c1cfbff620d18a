#pragma once

#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/config/loader.h"

namespace vigil::cli {

// Loads the configuration for run/once/status; on errors logs each
// `FILE:LINE: message` to stderr and returns nullopt. Commands that send
// nothing may pass options with check_http_library off: an old libcurl is no
// error for them.
std::optional<Config> load_or_report(const std::string& config_path,
                                     const LoadOptions& options = {});

}  // namespace vigil::cli
