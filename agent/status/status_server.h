#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/status/snapshot.h"
#include "agent/util/result.h"

struct uv_loop_s;

namespace vigil {

// Serves GET /health, /status and /metrics over HTTP/1.1 on `unix:PATH` or
// `HOST:PORT` (SPEC §6). Requests are bounded (8 KiB of head, 64 connections,
// 10 s to send a request), so a slow or hostile client cannot stall the loop
// or grow memory. Each connection answers one request and closes.
class StatusServer {
 public:
  using SnapshotFn = std::function<StatusSnapshot()>;

  StatusServer(uv_loop_s* loop, SnapshotFn snapshot);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Binds and listens. A unix socket file left by an agent that died is replaced.
  Status listen(const std::string& address);
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
