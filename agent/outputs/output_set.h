#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/outputs/formats.h"
#include "agent/outputs/output.h"
#include "agent/records/event_record.h"

struct uv_loop_s;

namespace vigil {

class HttpClient;

// Every configured output, and the one HTTP client they share: routing, the
// reload diff, and the sums the agent reports. libcurl costs memory at init, so
// the client exists only once an HTTP output does.
class OutputSet {
 public:
  struct Callbacks {
    std::function<void()> all_durable;  // every output holds every routed record durably
    std::function<void()> acked;        // a batch left a spool
    std::function<std::vector<Record>()> open_incidents;  // Alertmanager re-sends
    Output::FatalFn fatal;
  };

  OutputSet(uv_loop_s* loop, std::string state_dir, Callbacks callbacks);
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // At start: opens every output's spool; an error means the agent cannot run.
  Status open(const std::vector<OutputConfig>& outputs, const AgentInfo& info);
  // SIGHUP: an output of the same name keeps its spool and is reconfigured (an
  // unchanged one goes on untouched); new ones open; removed ones stop and leave
  // their spool on disk.
  void apply(const std::vector<OutputConfig>& outputs, const AgentInfo& info);
  // Hands the record to every output whose filters take it.
  void route(const Record& record);
  // Nothing left to append or send anywhere.
  bool drained() const;
  void stop();

  std::vector<OutputStatus> statuses() const;
  size_t size() const { return outputs_.size(); }
  // The outputs' part of the loss counters (log_bytes_skipped is the checks').
  LossCounters loss() const;
  uint64_t spooled() const;

 private:
  std::unique_ptr<Sink> make_sink(const OutputConfig& oc, const AgentInfo& info);
  Status open_one(const OutputConfig& oc, const AgentInfo& info);
  void on_durable();

  uv_loop_s* loop_;
  std::string state_dir_;
  Callbacks callbacks_;
  AgentInfo info_;  // as the sinks were made with
  std::unique_ptr<HttpClient> http_;
  std::vector<std::unique_ptr<Output>> outputs_;
};

}  // namespace vigil
