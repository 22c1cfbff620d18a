#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/config/loader.h"

namespace vigil::cli {

// Validates without touching the network or state_dir; errors go to stdout, one
// `FILE:LINE: message` per line, all of them.
int check_config_command(const std::string& config_path) {
  LoadOptions opts;
  opts.deep = true;
  LoadResult r = load_config(config_path, opts);
  if (!r.errors.empty()) {
    for (const ConfigError& e : r.errors) {
      printf("%s\n", e.to_string().c_str());
    }
    return 1;
  }
  printf("ok\n");
  return 0;
}

}  // namespace vigil::cli
