#include "agent/cli/cli.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent/cli/commands.h"

namespace vigil::cli {
namespace {

constexpr const char* kUsage =
    "usage: vigil COMMAND [-c FILE]\n"
    "\n"
    "commands:\n"
    "  run [-c FILE]              run in the foreground until SIGTERM or SIGINT\n"
    "  check-config [-c FILE]     validate the configuration; print \"ok\" or its errors\n"
    "  once [-c FILE]             run every check once and print one JSON object per check\n"
    "  status [-c FILE] [--json]  show the running agent's checks, incidents and outputs\n"
    "  --version                  print the version\n"
    "  --help                     print this help\n"
    "\n"
    "FILE defaults to $VIGIL_CONFIG, else /etc/vigil/vigil.ini.\n"
    "Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop the agent.\n";

int usage_error(const std::string& message) {
  fprintf(stderr, "vigil: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    return usage_error("a command is required");
  }
  std::string command = argv[1];
  if (command == "--version" || command == "version") {
    printf("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    fputs(kUsage, stdout);
    return 0;
  }
  std::string config;
  bool have_config = false;
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-c" || arg == "--config") {
      if (i + 1 >= argc) {
        return usage_error(arg + " needs a FILE");
      }
      config = argv[++i];
      have_config = true;
    } else if (arg.rfind("--config=", 0) == 0) {
      config = arg.substr(9);
      have_config = true;
    } else if (arg == "--json" && command == "status") {
      json = true;
    } else if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else {
      return usage_error("unknown argument '" + arg + "'");
    }
  }
  if (!have_config) {
    const char* env = getenv("VIGIL_CONFIG");
    config = (env != nullptr && *env != '\0') ? env : "/etc/vigil/vigil.ini";
  }
  if (command == "run") {
    return run_command(config);
  }
  if (command == "check-config") {
    return check_config_command(config);
  }
  if (command == "once") {
    return once_command(config);
  }
  if (command == "status") {
    return status_command(config, json);
  }
  return usage_error("unknown command '" + command + "'");
}

}  // namespace vigil::cli
