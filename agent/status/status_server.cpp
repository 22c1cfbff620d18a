#include "agent/status/status_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <set>

#include "agent/loop/liveness.h"
#include "agent/loop/uv_handle.h"
#include "agent/status/metrics_text.h"
#include "agent/status/status_json.h"
#include "agent/util/fs.h"
#include "agent/util/log.h"

namespace vigil {
namespace {

constexpr size_t kMaxConnections = 64;
constexpr uint64_t kRequestTimeoutMs = 10000;

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
  }
  return "Error";
}

enum class SocketUse { kStale, kLive, kUnknown };

// Whether a program listens on the unix socket at `path`. Non-blocking, so a
// listener with a full backlog (EAGAIN) counts as live rather than stalling
// the loop.
SocketUse probe_socket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return SocketUse::kUnknown;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(fd);
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
    return SocketUse::kLive;
  }
  // ECONNREFUSED: the file of a socket whose owner closed it or died.
  return err == ECONNREFUSED ? SocketUse::kStale : SocketUse::kUnknown;
}

std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Whether `path` lies in `dir` or below, both resolved (links, "..").
bool is_inside(const std::string& path, const std::string& dir) {
  char folder[PATH_MAX];
  char owned[PATH_MAX];
  if (realpath(folder_of(path).c_str(), folder) == nullptr ||
      realpath(dir.c_str(), owned) == nullptr) {
    return false;
  }
  std::string f(folder);
  std::string o(owned);
  return f == o || (f.size() > o.size() && f.compare(0, o.size(), o) == 0 &&
                    (o == "/" || f[o.size()] == '/'));
}

// A unix stream socket bound to `path`. Bound here rather than with uv_pipe_bind:
// libuv unlinks the path of a pipe it bound when the handle closes, whatever is
// there by then, and close() must remove only the socket this server made.
Result<int> bind_unix_socket(const std::string& address, const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return make_error("status_listen " + address + ": " +
                      uv_strerror(uv_translate_sys_error(errno)));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return make_error("status_listen " + address + ": " + uv_strerror(uv_translate_sys_error(err)));
  }
  return fd;
}

// HOST:PORT, with [v6]:PORT; HOST is an IP address.
Result<sockaddr_storage> ip_address(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return make_error("status_listen " + address + ": expected unix:PATH, HOST:PORT or off");
  }
  std::string host = address.substr(0, colon);
  int port = atoi(address.c_str() + colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    return make_error("status_listen " + address + ": not an IP address");
  }
  return addr;
}

// Makes way for binding `path`: nothing is there, or a leftover socket of this
// agent that is removed; anything else is an error, and is left alone. Taking
// another program's socket path would cut it off from its clients for good
// (its file gone, its listener orphaned), and a regular file may be anyone's.
Status make_way(const std::string& address, const std::string& path, const std::string& owned_dir) {
  std::string prefix = "status_listen " + address + ": ";
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return {};
    }
    return make_error(prefix + "cannot check " + path + ": " + strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    std::string kind = non_regular_kind(st.st_mode);
    return make_error(prefix + path + " exists and is " + (kind.empty() ? "a file" : kind) +
                      ", not a socket; remove it or choose another path");
  }
  switch (probe_socket(path)) {
    case SocketUse::kLive:
      return make_error(prefix + "another program listens on " + path +
                        "; stop it or choose another path");
    case SocketUse::kUnknown:
      return make_error(prefix + path +
                        " is a socket this agent cannot tell is unused; remove it or choose "
                        "another path");
    case SocketUse::kStale:
      break;
  }
  if (!owned_dir.empty() && !is_inside(path, owned_dir)) {
    return make_error(prefix + path +
                      " exists and is not inside state_dir; remove it or choose another path");
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return make_error(prefix + "cannot remove the stale socket " + path + ": " + strerror(errno));
  }
  return {};
}

}  // namespace

HttpAnswer answer_status_request(const std::string& method, const std::string& path,
                                 const StatusSnapshot& snapshot) {
  HttpAnswer a;
  std::string p = path.substr(0, path.find('?'));
  if (method != "GET" && method != "HEAD") {
    a.status = 405;
    a.body = "only GET\n";
    return a;
  }
  if (p == "/health") {
    a.body = "ok\n";
  } else if (p == "/status") {
    a.content_type = "application/json";
    a.body = status_json(snapshot);
  } else if (p == "/metrics") {
    a.content_type = "text/plain; version=0.0.4; charset=utf-8";
    a.body = metrics_text(snapshot);
  } else {
    a.status = 404;
    a.body = "not found: try /health, /status or /metrics\n";
  }
  return a;
}

struct Connection;

struct StatusServer::Impl {
  uv_loop_t* loop;
  SnapshotFn snapshot;
  ControlHandler control;
  UvHandle<uv_any_handle> listener;  // a uv_tcp_t or a uv_pipe_t
  bool is_tcp = false;
  std::string unix_path;
  // The socket file bound, so that close() removes that one and never a file
  // someone put at the path since.
  dev_t unix_dev = 0;
  ino_t unix_ino = 0;
  std::set<Connection*> connections;
  uint64_t accepted = 0;

  void on_connection();
};

// One client: its stream, a deadline, its request as read so far and who it is.
struct Connection {
  StatusServer::Impl* server = nullptr;
  uint64_t serial = 0;  // accept order: when full, the oldest goes
  uv_stream_t* stream = nullptr;
  uv_timer_t* timer = nullptr;
  HttpRequestReader reader;
  Peer peer;
  bool answered = false;
  int open_handles = 0;
  // A control handler answers later: its Responder holds a token, stale once the
  // connection is gone.
  Liveness liveness;

  void close() {
    if (stream_closed) {
      return;
    }
    stream_closed = true;
    server->connections.erase(this);
    auto done = [](uv_handle_t* h) {
      auto* c = static_cast<Connection*>(h->data);
      if (reinterpret_cast<uv_handle_t*>(c->stream) == h) {
        delete reinterpret_cast<uv_any_handle*>(h);
      } else {
        delete reinterpret_cast<uv_timer_t*>(h);
      }
      if (--c->open_handles == 0) {
        delete c;
      }
    };
    uv_timer_stop(timer);
    uv_close(reinterpret_cast<uv_handle_t*>(timer), done);
    uv_close(reinterpret_cast<uv_handle_t*>(stream), done);
  }
  bool stream_closed = false;

  void respond(const HttpAnswer& a, bool head_only) {
    answered = true;
    std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) +
                      "\r\nContent-Type: " + a.content_type +
                      "\r\nContent-Length: " + std::to_string(a.body.size()) +
                      "\r\nConnection: close\r\n\r\n";
    if (!head_only) {
      out += a.body;
    }
    struct Write {
      uv_write_t req;
      std::string data;
      Connection* conn;
    };
    auto* w = new Write{{}, std::move(out), this};
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    w->req.data = w;
    uv_read_stop(stream);
    int rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int) noexcept {
      auto* wr = static_cast<Write*>(req->data);
      Connection* c = wr->conn;
      delete wr;
      if (!c->stream_closed) {
        c->close();
      }
    });
    if (rc != 0) {
      delete w;
      close();
    }
  }

  // Too slow to send its request, or its handler too slow to answer.
  static void on_deadline(uv_timer_t* t) noexcept {
    auto* conn = static_cast<Connection*>(t->data);
    if (!conn->stream_closed) {
      conn->close();
    }
  }

  void on_data(const char* data, size_t n) {
    if (answered || reader.state() != HttpRequestReader::State::kIncomplete) {
      return;
    }
    switch (reader.feed(data, n)) {
      case HttpRequestReader::State::kIncomplete:
        return;
      case HttpRequestReader::State::kError:
        respond(reader.error(), false);
        return;
      case HttpRequestReader::State::kComplete:
        dispatch(reader.request());
        return;
    }
  }

  void dispatch(const StatusRequest& req) {
    bool head_only = req.method == "HEAD";
    if (!StatusServer::is_control_path(req.path)) {
      respond(answer_status_request(req.method, req.path, server->snapshot()), head_only);
      return;
    }
    if (server->is_tcp) {
      respond(HttpAnswer{403, "text/plain; charset=utf-8",
                         "silences and acks are served on the unix socket only "
                         "(status_listen = unix:PATH)\n"},
              head_only);
      return;
    }
    if (!server->control) {
      respond(HttpAnswer{404, "text/plain; charset=utf-8", "not found\n"}, head_only);
      return;
    }
    // The handler may answer later (after work on the thread pool): the deadline
    // starts again for it, and its answer is dropped if the connection went.
    uv_read_stop(stream);
    uv_timer_start(timer, &Connection::on_deadline, kRequestTimeoutMs, 0);
    Liveness::Token token = liveness.guard();
    Connection* self = this;
    server->control(req, peer, [self, token, head_only](HttpAnswer a) {
      if (token.valid() && !self->stream_closed && !self->answered) {
        self->respond(a, head_only);
      }
    });
  }
};

void StatusServer::Impl::on_connection() {
  // Allocated as the union so the close callback frees either kind alike.
  auto* any = new uv_any_handle;
  if (is_tcp) {
    uv_tcp_init(loop, &any->tcp);
  } else {
    uv_pipe_init(loop, &any->pipe, 0);
  }
  auto* client = reinterpret_cast<uv_stream_t*>(any);
  auto* c = new Connection;
  c->server = this;
  c->stream = client;
  c->timer = new uv_timer_t;
  uv_timer_init(loop, c->timer);
  c->open_handles = 2;
  client->data = c;
  c->timer->data = c;
  c->serial = ++accepted;
  if (connections.size() >= kMaxConnections) {
    // Full: the oldest connection has had the longest to send its request, so it
    // goes; clients that hold connections open cannot lock others out.
    Connection* oldest = *connections.begin();
    for (Connection* other : connections) {
      if (other->serial < oldest->serial) {
        oldest = other;
      }
    }
    oldest->close();
  }
  connections.insert(c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener.get()), client) != 0) {
    c->close();
    return;
  }
  if (!is_tcp) {
    // Who connected, as the kernel says: the author of a silence or an ack.
    uv_os_fd_t fd = -1;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(client), &fd) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      c->peer = Peer{true, cred.uid, cred.gid, cred.pid};
    }
  }
  uv_timer_start(c->timer, &Connection::on_deadline, kRequestTimeoutMs, 0);
  uv_read_start(
      client,
      [](uv_handle_t*, size_t, uv_buf_t* buf) noexcept {
        static thread_local char storage[4096];
        buf->base = storage;
        buf->len = sizeof storage;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) noexcept {
        auto* conn = static_cast<Connection*>(s->data);
        if (conn->stream_closed) {
          return;
        }
        if (n < 0) {
          conn->close();
          return;
        }
        conn->on_data(buf->base, static_cast<size_t>(n));
      });
}

StatusServer::StatusServer(uv_loop_t* loop, SnapshotFn snapshot) : impl_(std::make_unique<Impl>()) {
  impl_->loop = loop;
  impl_->snapshot = std::move(snapshot);
}

StatusServer::~StatusServer() { close(); }

void StatusServer::set_control(ControlHandler handler) { impl_->control = std::move(handler); }

bool StatusServer::is_control_path(const std::string& path) {
  const std::string incidents = "/incidents/";
  const std::string ack = "/ack";
  return path == "/silences" || path.rfind("/silences/", 0) == 0 ||
         (path.size() > incidents.size() + ack.size() && path.rfind(incidents, 0) == 0 &&
          path.compare(path.size() - ack.size(), ack.size(), ack) == 0);
}

void StatusServer::close() {
  std::set<Connection*> open = impl_->connections;
  for (Connection* c : open) {
    c->close();
  }
  impl_->listener.reset();
  if (!impl_->unix_path.empty()) {
    struct stat st {};
    if (lstat(impl_->unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
        st.st_dev == impl_->unix_dev && st.st_ino == impl_->unix_ino) {
      unlink(impl_->unix_path.c_str());
    }
    impl_->unix_path.clear();
  }
}

Status StatusServer::listen(const std::string& address, const std::string& owned_dir) {
  auto on_conn = [](uv_stream_t* s, int status) noexcept {
    auto* impl = static_cast<Impl*>(s->data);
    if (impl != nullptr && status == 0) {
      impl->on_connection();
    }
  };
  if (address.rfind("unix:", 0) == 0) {
    std::string path = address.substr(5);
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      // libuv would bind a name cut short, which close() could then not find.
      return make_error("status_listen " + address + ": the path is longer than " +
                        std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                        " bytes, the most a unix socket takes");
    }
    if (Status s = make_way(address, path, owned_dir); !s.ok()) {
      return s;
    }
    auto bound = bind_unix_socket(address, path);
    if (!bound.ok()) {
      return bound.error_info();
    }
    int fd = *bound;
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
      impl_->unix_dev = st.st_dev;
      impl_->unix_ino = st.st_ino;
      impl_->unix_path = path;
    }
    chmod(path.c_str(), 0660);
    auto* any = new uv_any_handle;
    uv_pipe_t* p = &any->pipe;
    uv_pipe_init(impl_->loop, p, 0);
    p->data = impl_.get();
    impl_->listener.adopt(any);
    int rc = uv_pipe_open(p, fd);
    if (rc != 0) {
      ::close(fd);  // not the handle's until uv_pipe_open succeeds
    } else {
      rc = uv_listen(reinterpret_cast<uv_stream_t*>(p), 16, on_conn);
    }
    if (rc != 0) {
      close();
      return make_error("status_listen " + address + ": " + uv_strerror(rc));
    }
    return {};
  }
  auto addr = ip_address(address);
  if (!addr.ok()) {
    return addr.error_info();
  }
  auto* any = new uv_any_handle;
  uv_tcp_t* t = &any->tcp;
  uv_tcp_init(impl_->loop, t);
  t->data = impl_.get();
  impl_->listener.adopt(any);
  impl_->is_tcp = true;
  int rc = uv_tcp_bind(t, reinterpret_cast<const sockaddr*>(&*addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(t), 64, on_conn);
  }
  if (rc != 0) {
    impl_->listener.reset();
    return make_error("status_listen " + address + ": " + uv_strerror(rc));
  }
  return {};
}

int StatusServer::port() const {
  if (!impl_->is_tcp || !impl_->listener) {
    return 0;
  }
  sockaddr_storage addr{};
  int len = sizeof addr;
  uv_tcp_getsockname(reinterpret_cast<uv_tcp_t*>(impl_->listener.get()),
                     reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

}  // namespace vigil
