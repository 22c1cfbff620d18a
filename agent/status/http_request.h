#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>

namespace vigil {

// One request as the status server read it: method, path (without its query)
// and body.
struct StatusRequest {
  std::string method;
  std::string path;
  std::string body;
};

// A reply: status code, content type and body.
struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Who is at the other end of a unix socket (SO_PEERCRED); not `known` on TCP.
struct Peer {
  bool known = false;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

// Answers a request later, on the loop thread; does nothing once the connection
// is gone.
using Responder = std::function<void(HttpAnswer)>;

// Gathers one HTTP/1.1 request from the bytes of a connection, within bounds: a
// head of at most kMaxHead bytes, a body of at most kMaxBody bytes announced by
// Content-Length. What it cannot take is answered with a clear status: 400 for
// a malformed request line or Content-Length, 413 for a body too large, 431 for
// a head too large, 501 for a Transfer-Encoding (chunked bodies are not taken).
class HttpRequestReader {
 public:
  static constexpr size_t kMaxHead = 8192;
  static constexpr size_t kMaxBody = 64 * 1024;

  enum class State { kIncomplete, kComplete, kError };

  // Takes the next bytes; once complete or in error, later bytes are ignored.
  State feed(const char* data, size_t n);
  State state() const { return state_; }
  const StatusRequest& request() const { return request_; }
  // The answer for a request in error.
  const HttpAnswer& error() const { return error_; }

 private:
  State parse_head(size_t head_end, size_t body_start);
  State fail(int status, std::string message);

  State state_ = State::kIncomplete;
  std::string buffer_;
  bool have_head_ = false;
  size_t body_start_ = 0;
  size_t body_length_ = 0;
  StatusRequest request_;
  HttpAnswer error_;
};

}  // namespace vigil
