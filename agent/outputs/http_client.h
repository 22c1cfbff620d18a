#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/util/time.h"

// Forward declaration, so that this header does not pull in uv.h.
struct uv_loop_s;
typedef struct uv_loop_s uv_loop_t;

namespace vigil {

// Only this much of a reply body is kept by default (HttpRequest::body_cap);
// the rest is read and discarded.
inline constexpr size_t kMaxResponseBodyBytes = 4096;

enum class HttpMethod { kPost, kGet, kHead };

struct HttpRequest {
  std::string url;
  HttpMethod method = HttpMethod::kPost;
  std::string body;  // POST only
  // Sent as given (Content-Type, Authorization, Content-Encoding, ...). Never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  Duration timeout{10000};
  std::string ca_file;  // "" = the system's CAs
  std::string cert_file;
  std::string key_file;
  bool tls_verify = true;
  std::string proxy;  // "" = no proxy at all, whatever the environment says
  // Keep this many bytes of the reply's body (the rest is read and dropped).
  size_t body_cap = kMaxResponseBodyBytes;
  // Probes: a new connection of its own (no reuse before or after, no TLS
  // session resumption), so that every request measures a whole connection
  // and sees the server's certificates; their expiry is reported.
  bool fresh_connection = false;
  // Connect (and do the TLS handshake of an https:// URL) only; no request.
  bool connect_only = false;
  // connect_only: then write this, and read the first line the server sends
  // (at most kMaxProbeLineBytes), over the connection (TLS included), within
  // `timeout` from the start.
  std::string send;
  bool read_line = false;
};

// A connect_only request's read_line reads at most this much.
inline constexpr size_t kMaxProbeLineBytes = 4096;

// Seconds from the start of a request to each of its phases; unset when the
// request did not get that far.
struct HttpTimings {
  std::optional<double> connect;
  std::optional<double> tls;
  std::optional<double> first_byte;
  double total = 0;
};

struct HttpResponse {
  long status = 0;                      // 0 = no HTTP reply (a transport or TLS error, a timeout)
  std::string error;                    // curl's own message when status is 0
  std::string body;                     // the first kMaxBodyBytes of the reply
  std::optional<Duration> retry_after;  // parsed Retry-After, not capped
  std::string location;                 // the Location header of a 3xx reply
  std::string status_line;              // of the final reply: "HTTP/1.1 503 Service Unavailable"
  // The request could not be made at all (libcurl missing, no memory, a
  // refused option), as opposed to a server that did not answer.
  bool internal_error = false;
  HttpTimings timings;
  // fresh_connection only: the earliest notAfter (Unix seconds) of the
  // certificates the server presented, when a TLS handshake completed.
  std::optional<int64_t> cert_not_after;
  // read_line: the first line the server sent, without its line end.
  std::string line;
};

// Parses a Retry-After value: delay seconds or an HTTP date (a date in the past
// gives 0). nullopt when the value is neither.
std::optional<Duration> parse_retry_after(std::string_view value, SystemTime now);

// The oldest libcurl the client works with: CURLOPT_PROTOCOLS_STR and
// CURLOPT_REDIR_PROTOCOLS_STR, set on every request, came in 7.85.0; every other
// option and function it uses is older.
inline constexpr unsigned kMinLibcurlVersionNum = 0x075500;
inline constexpr std::string_view kMinLibcurlVersion = "7.85.0";

// "" when libcurl `version` (CURLVERSION_NOW's version_num, 0xXXYYZZ, and its
// text) is recent enough for the client, else the message saying it is not.
std::string libcurl_version_problem(unsigned version_num, std::string_view version);

// Why HTTP outputs cannot work in this process, or "" when they can: libcurl
// cannot be loaded, or is too old. Loads libcurl (once) to find out.
std::string http_unavailable_reason();

// Call at start, before libcurl is loaded and before any thread starts (it sets an
// environment variable). libcurl's dependencies load GnuTLS (for rtmp and ldap,
// protocols the client never enables), which initialises itself when loaded: 130 KiB
// of heap for nothing. GNUTLS_NO_IMPLICIT_INIT=1 stops that, unless the environment
// already sets it. Commands get an environment of their own (plugins/exec), so no
// child inherits it.
void prepare_http_environment();

// HTTP(S) requests (POSTs for the outputs, GET and HEAD for probes) driven by a libuv loop through
// curl's multi-socket interface. Every method must be called on the loop's thread. Connections are
// kept alive and reused between requests to the same endpoint.
class HttpClient {
 public:
  explicit HttpClient(uv_loop_t* loop);
  // Aborts in-flight requests without calling their callbacks, and closes the
  // client's handles if close() was not called (they are freed when the loop runs).
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a POST and returns its id (never 0). `done` is called exactly once on the
  // loop thread unless the request is cancelled or the client destroyed first. It is
  // called before post() returns only when the request cannot start at all (the
  // client is closed, or curl cannot make a handle); otherwise always later, from
  // the loop. `done` may post, cancel, close, or even destroy the client.
  uint64_t post(HttpRequest req, std::function<void(HttpResponse)> done);
  // The same for any method of HttpRequest (post() is request() with a POST).
  uint64_t request(HttpRequest req, std::function<void(HttpResponse)> done);
  // Aborts one request; its callback is not called. Unknown ids are ignored.
  void cancel(uint64_t id);
  // Aborts every request without callbacks and closes the libuv handles; call it
  // before uv_loop_close. The client takes no new requests afterwards.
  void close();
  // Requests in flight.
  size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
