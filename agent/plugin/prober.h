#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/util/time.h"

namespace vigil {

// One probe of a network service: an HTTP request, or a TCP connection (TLS
// when asked) that may send a line and read one back.
struct ProbeRequest {
  enum class Kind { kHttp, kTcp };
  Kind kind = Kind::kHttp;
  // http: an http:// or https:// URL, fetched with `method` (GET or HEAD);
  // redirects are not followed.
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  size_t body_cap = 64 * 1024;  // body bytes kept; the rest is read and dropped
  // tcp: where to connect, and whether to do a TLS handshake there.
  std::string host;
  int port = 0;
  bool tls = false;
  std::string send;        // written once connected
  bool read_line = false;  // read until the first line feed (or 4 KiB, or the end)
  // TLS, for both.
  std::string ca_file;  // "" = the system's CAs
  bool tls_verify = true;
  Duration timeout{10000};  // the whole probe
};

// What one probe found. A service that is down is a measurement (`error` says
// why); only `failure` means the probe could not run at all.
struct ProbeResult {
  // The probe could not be made (no memory, no descriptor, libcurl cannot
  // load): nothing was measured.
  std::string failure;
  // Why the service did not answer: a transport, TLS or timeout error, as
  // libcurl words it ("Connection refused", "SSL certificate problem: ...").
  // Empty when it answered.
  std::string error;
  long status = 0;          // http: the status code of the reply (0: none)
  std::string status_line;  // http: "HTTP/1.1 503 Service Unavailable"
  std::string body;         // http: the first body_cap bytes of the body
  std::string line;         // tcp: the first line received, without its line end
  // Seconds from the start: connected, TLS done, first byte of the reply, end.
  std::optional<double> connect_seconds;
  std::optional<double> tls_seconds;
  std::optional<double> first_byte_seconds;
  double total_seconds = 0;
  // The earliest notAfter (Unix seconds) of the certificates the server
  // presented; only when a TLS handshake completed.
  std::optional<int64_t> cert_not_after;
};

class Prober {
 public:
  virtual ~Prober() = default;
  // Starts a probe and returns its id (never 0). `done` is called exactly once
  // on the loop thread, always later (never inside probe()), unless the probe
  // is cancelled or the prober destroyed first. Never blocks the loop.
  virtual uint64_t probe(ProbeRequest request, std::function<void(ProbeResult)> done) = 0;
  // Aborts a probe; its callback is not called. Unknown ids are ignored.
  virtual void cancel(uint64_t id) = 0;
};

}  // namespace vigil
