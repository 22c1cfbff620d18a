#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/records/record.h"
#include "agent/rules/evaluator.h"
#include "agent/util/time.h"

namespace vigil {

struct EventFields {
  std::string host;
  Tags tags;
  std::string check;
  std::string plugin;
  CheckState state = CheckState::kOk;
  std::optional<CheckState> previous_state;
  Evaluation evaluation;
  std::string runbook;
  std::vector<std::string> samples;  // log checks: the first matching lines, cut to 512 bytes
};

// An `event` record (docs/RECORDS.md): every field present, null when it has no value.
Record make_event_record(const EventFields& fields, const std::string& id, SystemTime time);

struct LossCounters {
  uint64_t dropped = 0;
  uint64_t corrupt_frames = 0;
  uint64_t dead_lettered = 0;
  uint64_t log_bytes_skipped = 0;
};

struct HeartbeatFields {
  std::string host;
  Tags tags;
  double uptime_seconds = 0;
  uint64_t spool_records = 0;
  LossCounters loss;
};

Record make_heartbeat_record(const HeartbeatFields& fields, const std::string& id, SystemTime time);

}  // namespace vigil
