#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/outputs/output.h"
#include "agent/records/event_record.h"
#include "agent/rules/rule.h"
#include "agent/util/time.h"

namespace vigil {

struct CheckStatus {
  std::string name;
  std::string plugin;
  std::optional<CheckState> state;
  std::optional<SystemTime> since;
  std::vector<std::pair<std::string, double>> metrics;
  // Every metric the plugin reports, so /metrics has their series (0) before the
  // first reading; empty for plugins whose metrics are not known ahead (exec).
  std::vector<std::string> metric_names;
  std::optional<std::string> error;
  std::optional<SystemTime> last_run;
  // The loss counters the plugin reports, and their totals for this check.
  std::vector<std::pair<std::string, uint64_t>> losses;
};

// Everything /status, /metrics and `vigil status` show, copied out of the agent
// on the loop thread.
struct StatusSnapshot {
  std::string host;
  std::string version;
  std::string instance;
  double uptime_seconds = 0;
  std::vector<CheckStatus> checks;
  std::vector<std::string> incidents;  // open incident records (JSON)
  std::vector<std::string> problems;   // open problem records (JSON)
  std::vector<OutputStatus> outputs;
  LossCounters loss;
};

}  // namespace vigil
