#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/spool/spool.h"
#include "agent/util/time.h"

namespace vigil {

// What became of one batch (docs/DELIVERY.md): 2xx acknowledges; 408, 429, 5xx, 3xx,
// timeouts and transport errors retry; 413 splits; other 4xx dead-letter.
struct SendOutcome {
  enum class Kind { kAck, kRetry, kSplit, kDeadLetter };
  Kind kind = Kind::kAck;
  long status = 0;    // HTTP status, 0 when there was no reply
  std::string error;  // the transport's own text, or "HTTP 503"
  std::string reply;  // first 4 KiB of the reply body
  std::optional<Duration> retry_after;
};

SendOutcome classify_http(long status, const std::string& transport_error, const std::string& reply,
                          std::optional<Duration> retry_after, const std::string& location);

// Where an output's batches go: stdout, a file, or an HTTP endpoint in one format.
class Sink {
 public:
  virtual ~Sink() = default;
  // Largest batch this sink takes (PagerDuty: one record per request).
  virtual size_t max_batch(size_t configured) const { return configured; }
  // Sends a batch; calls done exactly once on the loop thread.
  virtual void send(const std::vector<SpoolEntry>& batch,
                    std::function<void(SendOutcome)> done) = 0;
  // Aborts what is in flight (shutdown): no callback after this.
  virtual void abort() {}
  // Alertmanager re-sends the current open incidents; false when the sink does
  // not (then done is not called).
  virtual bool send_state(const std::vector<std::string>& open_incidents,
                          std::function<void(SendOutcome)> done) {
    (void)open_incidents;
    (void)done;
    return false;
  }
};

}  // namespace vigil
