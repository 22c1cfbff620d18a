#pragma once

// Problems: the same key opening problem_count incidents within problem_window
// (docs/INCIDENTS.md). Internal to agent/incidents/.

#include <optional>

#include "agent/incidents/incident_records.h"
#include "agent/incidents/incident_state.h"
#include "agent/records/record.h"

namespace vigil {

// Remembers the opening of `incident` (just opened, at `now`) and opens or updates
// the check's problem when the count is reached; returns the problem record, if any.
std::optional<Record> note_incident_opened(const RecordContext& ctx, CheckTrack& track,
                                           const OpenIncident& incident, MonotonicTime now);

// Resolves the check's problem once problem_window has passed without a new
// incident; also forgets openings older than the window.
std::optional<Record> expire_problem(const RecordContext& ctx, CheckTrack& track,
                                     MonotonicTime now);

// When expire_problem() next has work, if ever.
std::optional<MonotonicTime> problem_deadline(const CheckTrack& track);

}  // namespace vigil
