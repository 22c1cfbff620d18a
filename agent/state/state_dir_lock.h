#pragma once

#include <string>

#include "agent/util/result.h"
#include "agent/util/unique_fd.h"

namespace vigil {

// The exclusive lock on `state_dir/lock` that keeps a second agent off the same
// state_dir. Creates state_dir (mode 0750) and its missing parents first. Held
// until the object goes (or the process ends, however it ends).
class StateDirLock {
 public:
  static Result<StateDirLock> acquire(const std::string& state_dir);

 private:
  explicit StateDirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace vigil
