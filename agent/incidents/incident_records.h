#pragma once

// Builds `incident` and `problem` records (docs/RECORDS.md) from the manager's state.
// Internal to agent/incidents/.

#include <string>
#include <string_view>

#include "agent/incidents/incident_state.h"
#include "agent/records/record.h"
#include "agent/util/time.h"

namespace vigil {

// What every record needs besides the state it describes.
struct RecordContext {
  const std::string& host;
  SystemTime now;  // the record's time (wall clock)
};

// The correlation problem an incident belongs to, and its part in it (`cause` or
// `symptom`); both empty when it is in none.
struct ProblemLink {
  std::string problem_id;
  std::string role;
};

// `resolved` makes status "resolved" and resolved_at the record's time; an empty
// event_id is written as null (time-driven records).
Record make_incident_record(const RecordContext& ctx, const CheckTrack& track,
                            const OpenIncident& incident, std::string_view action, bool resolved,
                            const std::string& event_id, const ProblemLink& link);

// A recurrence problem.
Record make_problem_record(const RecordContext& ctx, const CheckTrack& track,
                           const OpenProblem& problem, std::string_view action);

// A correlation problem: `suspect` indexes the group's suspected cause, `tags`
// are its check's, `severity` is what routing sees.
Record make_correlation_record(const RecordContext& ctx, const CorrelationGroup& group,
                               size_t suspect, const Tags& tags, CheckState severity,
                               std::string_view action);

// `host/check`.
std::string incident_key(const std::string& host, const std::string& check);

// A duration as people write it in the configuration: 24h, 10m, 90s, 250ms.
std::string format_duration(Duration d);

}  // namespace vigil
