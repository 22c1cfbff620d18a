#include "agent/util/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace vigil {

void sd_notify_send(const std::string& message) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') {
    return;
  }
  size_t len = strlen(path);
  sockaddr_un addr{};
  if (len >= sizeof(addr.sun_path)) {
    return;
  }
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = '\0';  // the abstract namespace
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return;
  }
  socklen_t alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  // Never block the loop on a busy manager: a full queue loses this message,
  // and the next watchdog ping or state change sends again.
  sendto(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
         reinterpret_cast<sockaddr*>(&addr), alen);
  close(fd);
}

long sd_watchdog_interval_ms() {
  const char* usec = getenv("WATCHDOG_USEC");
  if (usec == nullptr) {
    return 0;
  }
  const char* pid = getenv("WATCHDOG_PID");
  if (pid != nullptr && atol(pid) != static_cast<long>(getpid())) {
    return 0;
  }
  long v = atol(usec);
  return v > 0 ? v / 2000 : 0;
}

}  // namespace vigil
