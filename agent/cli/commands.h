#pragma once

#include <string>

namespace vigil::cli {

// Each returns the process exit code (docs/CLI.md: 0 fine, 1 invalid configuration
// or fatal runtime error, 2 usage error).
int run_command(const std::string& config_path);
int check_config_command(const std::string& config_path);
int once_command(const std::string& config_path);
int status_command(const std::string& config_path, bool json);

}  // namespace vigil::cli
