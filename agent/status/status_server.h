#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/status/snapshot.h"
#include "agent/util/result.h"

struct uv_loop_s;

namespace vigil {

// Serves GET /health, /status and /metrics over HTTP/1.1 on `unix:PATH` or
// `HOST:PORT` (docs/STATUS.md). Requests are bounded (8 KiB of head, 64 connections,
// 10 s to send a request), so a slow or hostile client cannot stall the loop
// or grow memory. Each connection answers one request and closes.
class StatusServer {
 public:
  using SnapshotFn = std::function<StatusSnapshot()>;

  StatusServer(uv_loop_s* loop, SnapshotFn snapshot);
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

// Answers one parsed request: status code, content type and body.
struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
HttpAnswer answer_status_request(const std::string& method, const std::string& path,
                                 const StatusSnapshot& snapshot);

}  // namespace vigil
