#include "agent/status/status_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

using test::TempDir;
using test::TestLoop;

StatusSnapshot small_snapshot() {
  StatusSnapshot s;
  s.host = "h";
  s.version = "9.9.9";
  CheckStatus c;
  c.name = "root";
  c.plugin = "disk";
  c.state = CheckState::kOk;
  c.metrics = {{"used_percent", 10}};
  s.checks.push_back(c);
  return s;
}

// A blocking client socket, used from a thread while the loop runs in the test.
int connect_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

int connect_tcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends `request` and reads until the server closes: the whole reply.
std::string exchange(int fd, const std::string& request) {
  if (fd < 0) {
    return "";
  }
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      break;
    }
    off += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return reply;
}

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

// Runs `client` on a thread while the loop serves; returns what it got.
std::string serve_while(TestLoop& loop, const std::function<std::string()>& client) {
  std::atomic<bool> done{false};
  std::string reply;
  std::thread t([&] {
    reply = client();
    done = true;
  });
  bool finished = loop.run_until([&] { return done.load(); });
  t.join();
  CHECK(finished);
  return reply;
}

std::string body_of(const std::string& reply) {
  size_t at = reply.find("\r\n\r\n");
  return at == std::string::npos ? "" : reply.substr(at + 4);
}

TEST_CASE("status server answers health, status, metrics over a unix socket", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    StatusServer server(loop.get(), small_snapshot);
    REQUIRE(server.listen("unix:" + sock).ok());
    std::string r = serve_while(loop, [&] { return exchange(connect_unix(sock), get("/health")); });
    CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(body_of(r) == "ok\n");
    r = serve_while(loop, [&] { return exchange(connect_unix(sock), get("/status")); });
    CHECK(r.find("Content-Type: application/json") != std::string::npos);
    auto j = nlohmann::json::parse(body_of(r), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j["checks"][0]["name"] == "root");
    r = serve_while(loop, [&] { return exchange(connect_unix(sock), get("/metrics")); });
    CHECK(r.find("version=0.0.4") != std::string::npos);
    CHECK(body_of(r).find(R"(vigil_build_info{version="9.9.9"} 1)") != std::string::npos);
    r = serve_while(loop, [&] { return exchange(connect_unix(sock), get("/nope")); });
    CHECK(r.rfind("HTTP/1.1 404", 0) == 0);
    r = serve_while(loop, [&] {
      return exchange(connect_unix(sock), "POST /status HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    });
    CHECK(r.rfind("HTTP/1.1 405", 0) == 0);
    server.close();
    CHECK(access(sock.c_str(), F_OK) != 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("status server replaces a socket file left by a dead agent", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    // A bound socket whose owner is gone: the file stays, nobody listens.
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    close(fd);
    StatusServer server(loop.get(), small_snapshot);
    REQUIRE(server.listen("unix:" + sock).ok());
    std::string r = serve_while(loop, [&] { return exchange(connect_unix(sock), get("/health")); });
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
  }
  CHECK(loop.close() == 0);
}

// A socket file nobody listens on, as a dead process leaves it.
void leave_stale_socket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  close(fd);
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST_CASE("status server replaces a stale socket inside the folder it owns", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("state/vigil.sock");
  REQUIRE(make_dirs(dir.file("state")).ok());
  leave_stale_socket(sock);
  {
    StatusServer server(loop.get(), small_snapshot);
    // Given through a path with ".." and a link: still inside.
    REQUIRE(symlink(dir.file("state").c_str(), dir.file("link").c_str()) == 0);
    REQUIRE(server.listen("unix:" + sock, dir.file("link/../state")).ok());
    std::string r = serve_while(loop, [&] { return exchange(connect_unix(sock), get("/health")); });
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("status server leaves a stale socket outside the folder it owns", "[status]") {
  TempDir dir;
  TestLoop loop;
  REQUIRE(make_dirs(dir.file("state")).ok());
  std::string sock = dir.file("elsewhere.sock");
  leave_stale_socket(sock);
  ino_t before = inode_of(sock);
  {
    StatusServer server(loop.get(), small_snapshot);
    Status s = server.listen("unix:" + sock, dir.file("state"));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error() == "status_listen unix:" + sock + ": " + sock +
                           " exists and is not inside state_dir; remove it or choose another path");
  }
  CHECK(inode_of(sock) == before);
  CHECK(loop.close() == 0);
}

TEST_CASE("status server never takes a socket another program listens on", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  int live = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(bind(live, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(live, 4) == 0);
  ino_t before = inode_of(sock);
  // Not even inside the owned folder, nor without one.
  for (const std::string& owned : {dir.path(), std::string()}) {
    StatusServer server(loop.get(), small_snapshot);
    Status s = server.listen("unix:" + sock, owned);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().find("another program listens on " + sock) != std::string::npos);
  }
  CHECK(inode_of(sock) == before);
  // Its owner still gets its clients.
  int client = connect_unix(sock);
  CHECK(client >= 0);
  if (client >= 0) {
    close(client);
  }
  close(live);
  CHECK(loop.close() == 0);
}

TEST_CASE("status server refuses a path that holds a file or a folder", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string file = dir.write("vigil.sock", "someone's data\n");
  REQUIRE(make_dirs(dir.file("folder.sock")).ok());
  {
    StatusServer server(loop.get(), small_snapshot);
    Status s = server.listen("unix:" + file, dir.path());
    REQUIRE_FALSE(s.ok());
    CHECK(s.error() == "status_listen unix:" + file + ": " + file +
                           " exists and is a file, not a socket; remove it or choose another path");
    s = server.listen("unix:" + dir.file("folder.sock"), dir.path());
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().find("is a folder, not a socket") != std::string::npos);
  }
  Result<std::string> text = read_file(file);
  REQUIRE(text.ok());
  CHECK(text.value() == "someone's data\n");
  CHECK(loop.close() == 0);
}

TEST_CASE("status server removes at close only the socket it bound", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    StatusServer server(loop.get(), small_snapshot);
    REQUIRE(server.listen("unix:" + sock, dir.path()).ok());
    // Someone replaced it meanwhile: theirs stays.
    REQUIRE(unlink(sock.c_str()) == 0);
    dir.write("vigil.sock", "new\n");
    server.close();
    CHECK(access(sock.c_str(), F_OK) == 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("status server refuses a unix path too long for a socket", "[status]") {
  TestLoop loop;
  {
    StatusServer server(loop.get(), small_snapshot);
    Status s = server.listen("unix:/tmp/" + std::string(120, 'x'));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().find("the most a unix socket takes") != std::string::npos);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("status server on TCP port 0 reports its port", "[status]") {
  TestLoop loop;
  {
    StatusServer server(loop.get(), small_snapshot);
    REQUIRE(server.listen("127.0.0.1:0").ok());
    int port = server.port();
    REQUIRE(port > 0);
    std::string r = serve_while(loop, [&] { return exchange(connect_tcp(port), get("/health")); });
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    CHECK_FALSE(server.listen("not-an-address").ok());
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("control requests reach the handler with the peer's credentials over a unix socket",
          "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    StatusServer server(loop.get(), small_snapshot);
    StatusRequest seen;
    Peer peer;
    server.set_control([&](const StatusRequest& req, const Peer& p, Responder respond) {
      seen = req;
      peer = p;
      respond(HttpAnswer{200, "application/json", "{\"silenceID\":\"x\"}\n"});
    });
    REQUIRE(server.listen("unix:" + sock).ok());
    std::string r = serve_while(loop, [&] {
      return exchange(connect_unix(sock),
                      "POST /silences HTTP/1.1\r\nContent-Length: 4\r\n\r\n{}\r\n");
    });
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(body_of(r) == "{\"silenceID\":\"x\"}\n");
    CHECK(seen.method == "POST");
    CHECK(seen.path == "/silences");
    CHECK(seen.body == "{}\r\n");
    CHECK(peer.known);
    CHECK(peer.uid == getuid());
    CHECK(peer.pid == getpid());
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("a control handler may answer later, or never, without harm", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  std::vector<Responder> later;
  {
    StatusServer server(loop.get(), small_snapshot);
    server.set_control([&](const StatusRequest&, const Peer&, Responder respond) {
      later.push_back(std::move(respond));
    });
    REQUIRE(server.listen("unix:" + sock).ok());
    std::atomic<bool> done{false};
    std::string reply;
    std::thread t([&] {
      reply = exchange(connect_unix(sock), "DELETE /silences/abc HTTP/1.1\r\n\r\n");
      done = true;
    });
    REQUIRE(loop.run_until([&] { return later.size() == 1; }));
    later[0](HttpAnswer{409, "text/plain; charset=utf-8", "expired already\n"});
    CHECK(loop.run_until([&] { return done.load(); }));
    t.join();
    CHECK(reply.rfind("HTTP/1.1 409 Conflict", 0) == 0);
    CHECK(body_of(reply) == "expired already\n");
    later[0](HttpAnswer{200, "text/plain", "twice\n"});  // a second answer goes nowhere
    // A request whose answer comes after the server closed.
    std::thread t2(
        [&] { reply = exchange(connect_unix(sock), "POST /incidents/disk/ack HTTP/1.1\r\n\r\n"); });
    REQUIRE(loop.run_until([&] { return later.size() == 2; }));
    server.close();
    t2.join();
    CHECK(reply.empty());
  }
  later[1](HttpAnswer{200, "text/plain", "too late\n"});  // the connection is gone
  CHECK(loop.close() == 0);
}

TEST_CASE("control requests over TCP answer 403", "[status]") {
  TestLoop loop;
  {
    StatusServer server(loop.get(), small_snapshot);
    bool called = false;
    server.set_control([&](const StatusRequest&, const Peer&, Responder respond) {
      called = true;
      respond(HttpAnswer{});
    });
    REQUIRE(server.listen("127.0.0.1:0").ok());
    int port = server.port();
    for (std::string request :
         {std::string("POST /silences HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"), get("/silences"),
          std::string("DELETE /silences/x HTTP/1.1\r\n\r\n"),
          std::string("POST /incidents/x/ack HTTP/1.1\r\n\r\n")}) {
      std::string r = serve_while(loop, [&] { return exchange(connect_tcp(port), request); });
      CHECK(r.rfind("HTTP/1.1 403 Forbidden", 0) == 0);
      CHECK(body_of(r).find("unix socket") != std::string::npos);
    }
    CHECK_FALSE(called);
    std::string r = serve_while(loop, [&] { return exchange(connect_tcp(port), get("/health")); });
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("control paths are /silences, /silences/ID and /incidents/ID/ack", "[status]") {
  CHECK(StatusServer::is_control_path("/silences"));
  CHECK(StatusServer::is_control_path("/silences/abc"));
  CHECK(StatusServer::is_control_path("/incidents/disk/ack"));
  CHECK_FALSE(StatusServer::is_control_path("/incidents//ack"));
  CHECK_FALSE(StatusServer::is_control_path("/incidents/ack"));
  CHECK_FALSE(StatusServer::is_control_path("/silencesx"));
  CHECK_FALSE(StatusServer::is_control_path("/status"));
}

TEST_CASE("a request body over 64 KiB gets 413", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    StatusServer server(loop.get(), small_snapshot);
    server.set_control(
        [&](const StatusRequest&, const Peer&, Responder respond) { respond(HttpAnswer{}); });
    REQUIRE(server.listen("unix:" + sock).ok());
    std::string r = serve_while(loop, [&] {
      // The head alone: the answer comes before any of the body is read.
      return exchange(connect_unix(sock),
                      "POST /silences HTTP/1.1\r\nContent-Length: 70000\r\n\r\n");
    });
    CHECK(r.rfind("HTTP/1.1 413", 0) == 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("an oversized request head gets 431 and the connection closes", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    StatusServer server(loop.get(), small_snapshot);
    REQUIRE(server.listen("unix:" + sock).ok());
    std::string r = serve_while(loop, [&] {
      return exchange(connect_unix(sock), "GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'a'));
    });
    CHECK(r.rfind("HTTP/1.1 431", 0) == 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("a silent client does not hold up the next one", "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    StatusServer server(loop.get(), small_snapshot);
    REQUIRE(server.listen("unix:" + sock).ok());
    std::string r = serve_while(loop, [&] {
      int silent = connect_unix(sock);
      int dribbler = connect_unix(sock);
      send(dribbler, "GET /status HTTP/1.1\r\nX-A: b\r\n", 30, MSG_NOSIGNAL);
      std::string reply = exchange(connect_unix(sock), get("/health"));
      close(silent);
      close(dribbler);
      return reply;
    });
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("connections are bounded and a new client is served while idle ones hold every slot",
          "[status]") {
  TempDir dir;
  TestLoop loop;
  std::string sock = dir.file("vigil.sock");
  {
    StatusServer server(loop.get(), small_snapshot);
    REQUIRE(server.listen("unix:" + sock).ok());
    std::vector<int> idle;
    std::atomic<bool> opened{false};
    std::thread opener([&] {
      for (int i = 0; i < 70; ++i) {
        int fd = connect_unix(sock);
        if (fd >= 0) {
          idle.push_back(fd);
        }
      }
      opened = true;
    });
    REQUIRE(loop.run_until([&] { return opened.load(); }));
    opener.join();
    // Let the server accept (and refuse the excess of) every pending connection.
    size_t closed_by_server = 0;
    REQUIRE(loop.run_until([&] {
      closed_by_server = 0;
      for (int fd : idle) {
        char c;
        if (recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
          ++closed_by_server;
        }
      }
      return closed_by_server >= 6;
    }));
    CHECK(closed_by_server == 6);  // 64 held, the oldest closed to make room
    char c;
    CHECK(recv(idle.front(), &c, 1, MSG_DONTWAIT) == 0);
    // Every slot is held by an idle client: the oldest makes room for this one.
    std::string r = serve_while(loop, [&] { return exchange(connect_unix(sock), get("/health")); });
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    for (int fd : idle) {
      close(fd);
    }
  }
  CHECK(loop.close() == 0);
}

}  // namespace
}  // namespace vigil
