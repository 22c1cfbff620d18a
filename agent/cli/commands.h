#pragma once

#include <string>
#include <vector>

namespace vigil::cli {

// A command's arguments: the configuration (-c FILE, else $VIGIL_CONFIG, else
// /etc/vigil/vigil.ini) and, for silence and ack, the rest as given.
struct CommandArgs {
  std::string config;
  std::vector<std::string> rest;
};

// Each returns the process exit code (docs/CLI.md: 0 fine, 1 invalid configuration,
// a refusal or a fatal runtime error, 2 usage error).
int run_command(const std::string& config_path);
int check_config_command(const std::string& config_path);
int once_command(const std::string& config_path);
int status_command(const std::string& config_path, bool json);
int silence_command(const CommandArgs& args);
int ack_command(const CommandArgs& args);

// Prints `vigil: MESSAGE` and the usage on stderr; returns 2.
int usage_error(const std::string& message);
// `OPTION VALUE` or `OPTION=VALUE` at args[*i]: kTaken with the value (and *i
// on the value); kOther when args[*i] is another argument; kMissing when the
// value is not there (a usage error).
enum class Take { kOther, kTaken, kMissing };
Take take_value(const std::vector<std::string>& args, size_t* i, const std::string& option,
                std::string* value);

}  // namespace vigil::cli
