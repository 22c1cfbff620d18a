#pragma once

// Correlation: incidents of different checks that open close together become one
// problem, the first of them (or one it depends on) the suspected cause
// (docs/INCIDENTS.md, Correlation). Internal to agent/incidents/.

#include <optional>
#include <string>
#include <vector>

#include "agent/incidents/incident_records.h"
#include "agent/incidents/incident_state.h"
#include "agent/records/record.h"

namespace vigil {

// `incident` has just opened on `track` and is not announced yet. It joins the
// oldest group whose first incident opened less than the group's window before
// it, else starts a group of its own (unless its correlate_window is 0). Returns
// the problem record when it joined: `open` for the second member, else `update`.
std::optional<Record> correlate_opening(const RecordContext& ctx, CorrelationGroups& groups,
                                        const CheckTracks& tracks, const CheckTrack& track,
                                        const OpenIncident& incident);

// The incident has resolved (its resolve record is made). The group it belongs
// to ends with its last open member; a problem then resolves (the record).
std::optional<Record> correlate_resolved(const RecordContext& ctx, CorrelationGroups& groups,
                                         const CheckTracks& tracks, const std::string& incident_id);

// The problem an incident is part of, and its role there; empty when none.
ProblemLink problem_link(const CorrelationGroups& groups, const CheckTracks& tracks,
                         const std::string& incident_id);

// Open correlation problems as records, each with the action of its last record.
std::vector<Record> open_correlation_problems(const RecordContext& ctx,
                                              const CorrelationGroups& groups,
                                              const CheckTracks& tracks);

}  // namespace vigil
