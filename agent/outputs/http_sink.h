#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/loop/liveness.h"
#include "agent/outputs/formats.h"
#include "agent/outputs/sink.h"

namespace vigil {

class HttpClient;

// POSTs batches in the output's format through the shared HttpClient.
class HttpSink final : public Sink {
 public:
  HttpSink(HttpClient& client, const OutputConfig& config, AgentInfo agent);
  ~HttpSink() override;
  size_t max_batch(size_t configured) const override;
  void send(const std::vector<SpoolEntry>& batch, std::function<void(SendOutcome)> done) override;
  void abort() override;
  // Alertmanager: posts the current open incidents (state, not history).
  bool send_state(const std::vector<std::string>& open_incidents,
                  std::function<void(SendOutcome)> done) override;

 private:
  void post(std::string body, std::function<void(SendOutcome)> done);

  HttpClient& client_;
  const OutputConfig config_;
  AgentInfo agent_;
  uint64_t in_flight_ = 0;
  Liveness liveness_;  // a reply that comes after the sink is gone finds it stale
};

}  // namespace vigil
