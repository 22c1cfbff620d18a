#pragma once

#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vigil::test {

// Waits up to timeout_ms for a process (a child or not) to exit: a pidfd turns
// readable then. A process that closed its pipes may still be inside exit for
// a moment, so "gone after the run is reported" needs this bounded wait. True
// when it has exited (a zombie nobody reaped yet counts) or no longer exists.
inline bool wait_exited(int pid, int timeout_ms = 5000) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    return errno == ESRCH;
  }
  pollfd p{fd, POLLIN, 0};
  bool exited = poll(&p, 1, timeout_ms) == 1;
  close(fd);
  return exited;
}

}  // namespace vigil::test
