#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "agent/plugin/spawner.h"

struct uv_loop_s;

namespace vigil {

// Runs commands with uv_spawn: stdin from /dev/null, stdout piped and capped,
// stderr discarded, each command the leader of its own session and process
// group (UV_PROCESS_DETACHED calls setsid) so that a timeout kills everything
// it started, not only the first process. At the timeout the group gets
// SIGTERM, then SIGKILL a second later. A command inherits no descriptor of the
// agent but its stdin, stdout and stderr: the first spawner installs a fork
// hook that marks every other one close-on-exec in the child.
class UvSpawner final : public Spawner {
 public:
  explicit UvSpawner(uv_loop_s* loop);
  ~UvSpawner() override;
  UvSpawner(const UvSpawner&) = delete;
  UvSpawner& operator=(const UvSpawner&) = delete;

  void run(const SpawnRequest& request, std::function<void(SpawnResult)> done) override;
  size_t running() const { return runs_.size(); }

 private:
  class Run;  // one command in flight; defined in the .cpp (it holds uv handles)
  void finish(uint64_t id);

  uv_loop_s* loop_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Run>> runs_;
};

}  // namespace vigil
