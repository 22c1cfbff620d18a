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
    "  silence add MATCHER... (--for DURATION | --until TIME) [--starts TIME]\n"
    "              --comment TEXT [--author NAME] [--expire-on-resolve]\n"
    "                             mute the notification of matching incidents; print its id\n"
    "  silence list [--json] [--all]\n"
    "                             the pending and active silences (--all: expired ones too)\n"
    "  silence expire ID          end a silence now\n"
    "  ack INCIDENT_ID|CHECK [--comment TEXT]\n"
    "                             acknowledge an open incident: no escalation while acked\n"
    "  --version                  print the version\n"
    "  --help                     print this help\n"
    "\n"
    "MATCHER: check=NAME, check!=NAME, check=~REGEX, check!~REGEX; also plugin, severity,\n"
    "tag.KEY. TIME: RFC 3339 (2026-11-24T02:00:00Z). silence and ack talk to the running\n"
    "agent over its status_listen socket.\n"
    "FILE defaults to $VIGIL_CONFIG, else /etc/vigil/vigil.ini.\n"
    "Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop the agent.\n";

}  // namespace

int usage_error(const std::string& message) {
  fprintf(stderr, "vigil: %s\n%s", message.c_str(), kUsage);
  return 2;
}

Take take_value(const std::vector<std::string>& args, size_t* i, const std::string& option,
                std::string* value) {
  const std::string& arg = args[*i];
  if (arg == option) {
    if (*i + 1 >= args.size()) {
      return Take::kMissing;
    }
    *value = args[++*i];
    return Take::kTaken;
  }
  if (arg.rfind(option + "=", 0) == 0) {
    *value = arg.substr(option.size() + 1);
    return Take::kTaken;
  }
  return Take::kOther;
}

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
  CommandArgs args;
  bool have_config = false;
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-c" || arg == "--config") {
      if (i + 1 >= argc) {
        return usage_error(arg + " needs a FILE");
      }
      args.config = argv[++i];
      have_config = true;
    } else if (arg.rfind("--config=", 0) == 0) {
      args.config = arg.substr(9);
      have_config = true;
    } else if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else if (command == "silence" || command == "ack") {
      args.rest.push_back(arg);  // their own arguments, read by the command
    } else if (arg == "--json" && command == "status") {
      json = true;
    } else {
      return usage_error("unknown argument '" + arg + "'");
    }
  }
  if (!have_config) {
    const char* env = getenv("VIGIL_CONFIG");
    args.config = (env != nullptr && *env != '\0') ? env : "/etc/vigil/vigil.ini";
  }
  if (command == "run") {
    return run_command(args.config);
  }
  if (command == "check-config") {
    return check_config_command(args.config);
  }
  if (command == "once") {
    return once_command(args.config);
  }
  if (command == "status") {
    return status_command(args.config, json);
  }
  if (command == "silence") {
    return silence_command(args);
  }
  if (command == "ack") {
    return ack_command(args);
  }
  return usage_error("unknown command '" + command + "'");
}

}  // namespace vigil::cli
