#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/rules/rule.h"

namespace vigil {

enum class RecordKind { kEvent, kIncident, kProblem, kHeartbeat };

std::string_view record_kind_name(RecordKind k);

// One record, serialised once (docs/RECORDS.md), plus what routing needs without parsing it.
struct Record {
  RecordKind kind = RecordKind::kEvent;
  std::string id;    // UUIDv7, the same on every retry
  std::string json;  // the whole record, one line, no newline
  // Incident records only (min_severity, min_level, alertmanager coalescing):
  std::string key;
  CheckState severity = CheckState::kOk;
  int escalation_level = 0;
  bool resolved = false;
  bool silenced = false;  // a silence mutes the incident (`silenced = skip` outputs)
  bool ack = false;       // action `ack` (alertmanager outputs take none)
};

}  // namespace vigil
