#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/status/http_request.h"
#include "agent/status/snapshot.h"
#include "agent/util/result.h"

struct uv_loop_s;

namespace vigil {

// Serves GET /health, /status and /metrics over HTTP/1.1 on `unix:PATH` or
// `HOST:PORT` (docs/STATUS.md), and hands the control endpoints (silences, acks)
// to a handler, on a unix socket only: over TCP they answer 403. Requests are
// bounded (8 KiB of head, 64 KiB of body, 64 connections, 10 s to send a
// request, 10 s more for the handler to answer), so a slow or hostile client
// cannot stall the loop or grow memory. Each connection answers one request
// and closes.
class StatusServer {
 public:
  using SnapshotFn = std::function<StatusSnapshot()>;
  // A control request, its peer's credentials (SO_PEERCRED), and how to answer;
  // called on the loop thread.
  using ControlHandler = std::function<void(const StatusRequest&, const Peer&, Responder)>;

  StatusServer(uv_loop_s* loop, SnapshotFn snapshot);
  // The handler of /silences and /incidents/ID/ack; without one they are 404.
  void set_control(ControlHandler handler);
  // Whether `path` is one of the control endpoints.
  static bool is_control_path(const std::string& path);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Binds and listens. For `unix:PATH`, whatever is at PATH already is only
  // removed when it is provably a leftover of this agent: a socket nobody
  // listens on, inside `owned_dir` (the state_dir, whose lock the agent holds,
  // so no other agent uses it). Anything else is refused with an error saying
  // what is there: a file or folder that is not a socket, a socket another
  // program listens on, a stale socket outside owned_dir. An empty owned_dir
  // (a caller that knows no such folder) replaces a stale socket wherever it
  // is, as earlier versions did, but never a live one.
  Status listen(const std::string& address, const std::string& owned_dir = "");
  // The TCP port bound (after listen on port 0), or 0.
  int port() const;
  void close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Answers one parsed read request (/health, /status, /metrics).
HttpAnswer answer_status_request(const std::string& method, const std::string& path,
                                 const StatusSnapshot& snapshot);

}  // namespace vigil
