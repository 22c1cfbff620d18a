#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/config/check_config.h"

namespace vigil::cli {

// Validates without touching the network or state_dir; "ok" or every error as
// `FILE:LINE: message`, one per line, on stdout.
int check_config_command(const std::string& config_path) {
  return run_check_config(config_path, stdout);
}

}  // namespace vigil::cli
