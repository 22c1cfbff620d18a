#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "agent/cli/commands.h"
#include "agent/cli/config_errors.h"
#include "agent/cli/status_table.h"

namespace vigil::cli {
namespace {

// Connects to `unix:PATH` or `HOST:PORT`; -1 with `error` set on failure.
int connect_to(const std::string& address, std::string* error) {
  if (address.rfind("unix:", 0) == 0) {
    std::string path = address.substr(5);
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) {
      *error = "socket path too long: " + path;
      return -1;
    }
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path.data(), path.size());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      return fd;
    }
    *error = "cannot connect to " + path + ": " + strerror(errno);
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "0.0.0.0") {
    host = "127.0.0.1";
  } else if (host == "::") {
    host = "::1";
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    *error = "cannot resolve " + address;
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
    freeaddrinfo(res);
    return fd;
  }
  *error = "cannot connect to " + address + ": " + strerror(errno);
  freeaddrinfo(res);
  if (fd >= 0) {
    close(fd);
  }
  return -1;
}

}  // namespace

int status_command(const std::string& config_path, bool json) {
  // Nothing here sends: an HTTP output's libcurl need not load.
  LoadOptions load;
  load.check_http_library = false;
  std::optional<Config> config = load_or_report(config_path, load);
  if (!config) {
    return 1;
  }
  const std::string& address = config->agent.status_listen;
  if (address == "off") {
    fprintf(stderr, "vigil: status_listen = off in %s: the agent serves no status\n",
            config_path.c_str());
    return 1;
  }
  std::string error;
  int fd = connect_to(address, &error);
  if (fd < 0) {
    fprintf(stderr, "vigil: the agent cannot be reached: %s\n", error.c_str());
    return 1;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request = "GET /status HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    fprintf(stderr, "vigil: the agent cannot be reached: write failed\n");
    close(fd);
    return 1;
  }
  std::string reply;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t body = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) {
    fprintf(stderr, "vigil: the agent gave no status (%s)\n",
            reply.substr(0, reply.find('\r')).c_str());
    return 1;
  }
  std::string text = reply.substr(body + 4);
  if (json) {
    printf("%s\n", text.c_str());
    return 0;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    fprintf(stderr, "vigil: the agent's status is not JSON\n");
    return 1;
  }
  fputs(render_status_table(j).c_str(), stdout);
  return 0;
}

}  // namespace vigil::cli
