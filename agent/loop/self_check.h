#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "agent/records/event_record.h"
#include "agent/rules/evaluator.h"
#include "agent/util/time.h"

namespace vigil {

// Where a loss counter has counted something: {"dropped", "output rx"}.
struct LossPlace {
  std::string counter;
  std::string place;
};

// Something the agent cannot make durable right now (a full disk): nothing is
// lost yet, but a crash would lose it.
struct StorageProblem {
  std::string place;  // "state_dir /var/lib/vigil", "output rx's spool"
  std::string error;  // the system's words
  uint64_t records_in_memory = 0;
};

// The agent's own check `vigil` (docs/DELIVERY.md): `warning` while any loss
// counter has grown within the last 5 minutes, naming the counter, its growth and
// where it happened; or while something cannot be made durable, naming the place.
// Otherwise `ok`. Its metrics are the loss counters and the records held in memory.
class SelfCheck {
 public:
  static constexpr Duration kWindow = std::chrono::minutes(5);
  static constexpr const char* kMetrics[] = {"dropped", "corrupt_frames", "dead_lettered",
                                             "log_bytes_skipped", "records_in_memory"};

  // Takes the counters as of `now` (monotonic) and evaluates.
  Evaluation evaluate(MonotonicTime now, const LossCounters& total,
                      const std::vector<LossPlace>& places,
                      const std::vector<StorageProblem>& storage);
  const std::vector<std::pair<std::string, double>>& metrics() const { return metrics_; }

 private:
  // Readings of the last 5 minutes, plus the newest one older than that: the
  // baseline that growth is measured from.
  std::deque<std::pair<MonotonicTime, LossCounters>> history_;
  std::vector<std::pair<std::string, double>> metrics_;
};

}  // namespace vigil
