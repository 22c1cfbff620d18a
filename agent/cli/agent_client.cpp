#include "agent/cli/agent_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "agent/cli/config_errors.h"

namespace vigil::cli {
namespace {

constexpr time_t kReplyTimeoutSeconds = 10;

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
  std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
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

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::optional<std::string> agent_address(const std::string& config_path) {
  // Nothing here sends records: an HTTP output's libcurl need not load.
  LoadOptions load;
  load.check_http_library = false;
  std::optional<Config> config = load_or_report(config_path, load);
  if (!config) {
    return std::nullopt;
  }
  if (config->agent.status_listen == "off") {
    fprintf(stderr, "vigil: status_listen = off in %s: the agent serves no status\n",
            config_path.c_str());
    return std::nullopt;
  }
  return config->agent.status_listen;
}

Result<AgentReply> ask_agent(const std::string& address, const std::string& method,
                             const std::string& path, const std::string& body) {
  std::string error;
  int fd = connect_to(address, &error);
  if (fd < 0) {
    return make_error(error);
  }
  timeval tv{kReplyTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n";
  if (!body.empty()) {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (!write_all(fd, request)) {
    close(fd);
    return make_error("write failed: " + std::string(strerror(errno)));
  }
  std::string reply;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      reply.append(buf, static_cast<size_t>(n));
    }
  }
  int read_errno = errno;
  close(fd);
  size_t head_end = reply.find("\r\n\r\n");
  AgentReply out;
  if (reply.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos ||
      sscanf(reply.c_str() + 9, "%3d", &out.status) != 1) {
    if (n < 0 && (read_errno == EAGAIN || read_errno == EWOULDBLOCK)) {
      return make_error("no reply within " + std::to_string(kReplyTimeoutSeconds) + " seconds");
    }
    return make_error("no reply");
  }
  out.body = reply.substr(head_end + 4);
  return out;
}

int refuse(const std::string& message) {
  fprintf(stderr, "vigil: %s\n", message.c_str());
  return 1;
}

std::optional<AgentReply> ask_or_refuse(const std::string& config_path, const std::string& method,
                                        const std::string& path, const std::string& body) {
  std::optional<std::string> address = agent_address(config_path);
  if (!address) {
    return std::nullopt;
  }
  Result<AgentReply> reply = ask_agent(*address, method, path, body);
  if (!reply.ok()) {
    refuse("the agent cannot be reached: " + reply.error());
    return std::nullopt;
  }
  if (reply->status != 200) {
    std::string line = first_line(reply->body);
    refuse(line.empty() ? "the agent refused (HTTP " + std::to_string(reply->status) + ")" : line);
    return std::nullopt;
  }
  return std::move(reply).value();
}

bool plain_id(const std::string& s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

std::string first_line(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

}  // namespace vigil::cli
