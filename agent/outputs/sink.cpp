#include "agent/outputs/sink.h"

namespace vigil {

SendOutcome classify_http(long status, const std::string& transport_error, const std::string& reply,
                          std::optional<Duration> retry_after, const std::string& location) {
  SendOutcome out;
  out.status = status;
  out.reply = reply;
  out.retry_after = retry_after;
  if (status == 0) {
    out.kind = SendOutcome::Kind::kRetry;
    out.error = transport_error.empty() ? "no reply" : transport_error;
  } else if (status >= 200 && status < 300) {
    out.kind = SendOutcome::Kind::kAck;
  } else if (status >= 300 && status < 400) {
    // Redirects are not followed (they could carry the token elsewhere).
    out.kind = SendOutcome::Kind::kRetry;
    out.error = "HTTP " + std::to_string(status) + " redirect to " +
                (location.empty() ? "(no Location)" : location) + " not followed";
  } else if (status == 408 || status == 429 || status >= 500) {
    out.kind = SendOutcome::Kind::kRetry;
    out.error = "HTTP " + std::to_string(status);
  } else if (status == 413) {
    out.kind = SendOutcome::Kind::kSplit;
    out.error = "HTTP 413";
  } else {
    out.kind = SendOutcome::Kind::kDeadLetter;
    out.error = "HTTP " + std::to_string(status);
  }
  return out;
}

}  // namespace vigil
