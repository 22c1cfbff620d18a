#pragma once

// Saves and loads the incident manager's state (docs/INCIDENTS.md: incident state survives
// restarts). Internal to agent/incidents/.
//
// Monotonic instants mean nothing in another process, so every timer is written
// as the time elapsed before `now` ("*_ago_ms"), and load() rebuilds it as
// now - (elapsed + downtime): the agent's downtime counts as time that passed.
// Wall-clock stamps (opened_at, first_seen, last_seen) are Unix milliseconds.
//
//   {"version": 1, "checks": [{
//      "check", "plugin" (optional: older documents lack it), "removed",
//      "state" (null or a state name), "tags" [[k, v]...],
//      "runbook", "is_log", "depends_on" [...] (optional: older documents lack it),
//      "policy": {"escalate_after_ms" [...], "renotify_ms", "resolve_after_ms",
//                 "flap_changes", "flap_window_ms", "problem_count", "problem_window_ms",
//                 "correlate_window_ms" (optional: older documents lack it)},
//      "changes_ago_ms" [...], "last_change_ago_ms" (null),
//      "openings" [{"ago_ms", "wall_ms", "incident_id"}],
//      "incident" (null) {"incident_id", "severity", "opened_at_ms", "opened_ago_ms",
//                 "occurrences", "escalation_level", "flapping", "summary",
//                 "ok_since_ago_ms" (null), "last_record_ago_ms", "last_action",
//                 "last_event_id", and optional (older documents lack them) "silenced",
//                 "silence_ids" [...], "acknowledged_at_ms" (null), "acknowledged_by",
//                 "ack_comment"},
//      "problem" (null) {"problem_id", "incident_ids" [...], "first_seen_ms",
//                 "last_seen_ms", "last_incident_ago_ms", "summary", "last_action"}}],
//    "correlations" (optional: older documents lack it) [{"problem_id", "window_ms",
//      "key", "summary", "last_action", "members" [{"check", "incident_id", "severity",
//      "opened_at_ms", "opened_ago_ms", "open"}]}]}

#include <string>

#include "agent/incidents/incident_state.h"
#include "agent/util/result.h"

namespace vigil {

std::string save_document(const CheckTracks& tracks, const CorrelationGroups& groups,
                          MonotonicTime now);

// Fails on malformed JSON or a field of the wrong type; `downtime` below 0 counts as 0.
Result<IncidentDocument> load_document(const std::string& json, MonotonicTime now,
                                       Duration downtime);

}  // namespace vigil
