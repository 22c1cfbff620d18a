#pragma once

#include <cstdio>
#include <string>

#include "agent/config/loader.h"

namespace vigil {

// `vigil check-config` (docs/CLI.md): loads with the plugins' extra checks (exec
// commands executable …), touching neither the network nor state_dir. Prints
// "ok" and returns 0, or prints one "FILE:LINE: message" line per error, in
// file order, and returns 1. Both go to `out`, so that the errors are what the
// command prints, whatever logging does on stderr.
int run_check_config(const std::string& path, std::FILE* out, LoadOptions options = {});

}  // namespace vigil
