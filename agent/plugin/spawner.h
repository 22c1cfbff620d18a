#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/util/time.h"

namespace vigil {

// One command to run. argv[0] is an absolute path or a name looked up in the
// PATH of env; nothing passes through a shell.
struct SpawnRequest {
  std::vector<std::string> argv;
  std::vector<std::string> env;   // exactly these NAME=value entries
  Duration timeout{10000};        // SIGTERM to the process group, SIGKILL 1 s later
  size_t output_cap = 64 * 1024;  // stdout beyond this is read and dropped
};

// How it ended. Only stdout is captured, as Nagios does: monitoring plugins
// print their status and perfdata there, and stderr (discarded) would garble
// the first line with warnings.
struct SpawnResult {
  std::optional<int> exit_code;  // set when the command exited by itself
  std::optional<int> signal;     // set when a signal ended it
  bool timed_out = false;        // the spawner killed it at its timeout
  std::string output;            // at most output_cap bytes of stdout
  size_t output_dropped = 0;     // bytes read beyond the cap
  std::string error;             // could not run it at all (not found, not executable …)
  int pid = 0;                   // of the command (its process group has the same id)
};

class Spawner {
 public:
  virtual ~Spawner() = default;
  // Runs the command and calls done exactly once on the loop thread, now (the
  // command could not start) or later. A spawner destroyed with runs in
  // flight kills their process groups and calls none of their callbacks.
  virtual void run(const SpawnRequest& request, std::function<void(SpawnResult)> done) = 0;
};

}  // namespace vigil
