#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/loop/uv_handle.h"
#include "agent/plugin/spawner.h"

namespace vigil {

// Runs commands with posix_spawn: stdin and stderr from /dev/null, stdout
// piped and capped, each command the leader of its own session and process
// group so that a timeout kills everything it started, not only the first
// process. At the timeout the group gets SIGTERM, then SIGKILL a second later.
// A command inherits no descriptor of the agent but those three, and no signal
// disposition or mask.
//
// Not uv_spawn: libuv 1.44 forks, and fork copies the agent's page tables,
// write-protects every page it holds and runs glibc's fork handlers, in the
// parent and again in the child, for a command that execs at once. glibc's
// posix_spawn clones with CLONE_VM | CLONE_VFORK instead: the child borrows the
// agent's memory until it execs. A fleet agent with one exec check a minute
// spent more on that fork than on all its other checks together.
//
// Children are reaped from SIGCHLD on the loop, each by its own pid: a child
// the spawner did not start is never waited for here.
class PosixSpawner final : public Spawner {
 public:
  explicit PosixSpawner(uv_loop_t* loop);
  ~PosixSpawner() override;
  PosixSpawner(const PosixSpawner&) = delete;
  PosixSpawner& operator=(const PosixSpawner&) = delete;

  void run(const SpawnRequest& request, std::function<void(SpawnResult)> done) override;
  size_t running() const { return runs_.size(); }

 private:
  class Run;  // one command in flight; defined in the .cpp
  void finish(uint64_t id);
  void reap();
  void abandon(int pid);
  static void on_child_signal(uv_signal_t* s, int signum) noexcept;

  uv_loop_t* loop_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Run>> runs_;
  std::vector<int> abandoned_;      // killed, never seen to exit: reaped when they do
  std::string child_signal_error_;  // set when SIGCHLD cannot be watched: no command runs
  UvHandle<uv_signal_t> child_signal_;
};

}  // namespace vigil
