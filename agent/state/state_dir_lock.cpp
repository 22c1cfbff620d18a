#include "agent/state/state_dir_lock.h"

#include <errno.h>
#include <fcntl.h>

#include <cstring>

#include "agent/util/fs.h"

namespace vigil {

Result<StateDirLock> StateDirLock::acquire(const std::string& state_dir) {
  if (Status s = make_dirs(state_dir, 0750); !s.ok()) {
    return s.error_info();
  }
  std::string path = state_dir + "/lock";
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) {
    return make_error("cannot open " + path + ": " + strerror(errno));
  }
  // A POSIX record lock, not flock(): a child forked for an exec check shares
  // flock()'s lock until it execs, so after a kill -9 the next start could find
  // the state_dir still locked. fcntl() locks belong to this process alone.
  struct flock whole {};
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  if (fcntl(fd.get(), F_SETLK, &whole) != 0) {
    return make_error("another vigil is running with state_dir " + state_dir + " (" + path +
                      " is locked)");
  }
  return StateDirLock(std::move(fd));
}

}  // namespace vigil
