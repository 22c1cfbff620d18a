#pragma once

// The incident manager's state, shared by its parts (state machine, problems,
// records, persistence). Internal to agent/incidents/.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/rules/rule.h"
#include "agent/util/time.h"

namespace vigil {

// An open incident. Every timer is a monotonic instant, so a wall-clock step
// changes only the timestamps written into records.
struct OpenIncident {
  std::string incident_id;
  CheckState severity = CheckState::kCritical;  // the current non-ok severity
  SystemTime opened_at;                         // for records only
  MonotonicTime opened;                         // escalation is measured from here
  uint64_t occurrences = 0;
  int escalation_level = 0;
  bool flapping = false;
  std::string summary;
  // Set while the check is ok again and the incident waits out resolve_after.
  std::optional<MonotonicTime> ok_since;
  // The last record emitted for this incident: renotify is measured from it.
  MonotonicTime last_record;
  std::string last_action = "open";
  std::string last_event_id;
  // The silences that mute it (docs/SILENCES.md), as of its latest record or
  // silence refresh: its records carry them, and outputs with `silenced = skip`
  // leave it out meanwhile.
  bool silenced = false;
  std::vector<std::string> silence_ids;
  // Set by an ack, cleared by a worse severity: while set, no escalate and no renotify.
  std::optional<SystemTime> acknowledged_at;
  std::string acknowledged_by;
  std::string ack_comment;
};

// An open problem: recurring incidents of one key.
struct OpenProblem {
  std::string problem_id;
  std::vector<std::string> incident_ids;
  SystemTime first_seen;        // opened_at of its first incident
  SystemTime last_seen;         // opened_at of its latest incident
  MonotonicTime last_incident;  // the problem resolves problem_window after this
  std::string summary;
  std::string last_action = "open";
};

// One incident opening, remembered for problem_window.
struct IncidentOpening {
  MonotonicTime at;
  SystemTime wall;
  std::string incident_id;
};

// Everything known about one check.
struct CheckTrack {
  std::string check;
  std::string plugin;     // what a silence's `plugin` matcher sees
  IncidentPolicy policy;  // the latest one seen for the check
  Tags tags;
  std::string runbook;
  bool counts_occurrences = false;
  std::vector<std::string> depends_on;  // the check's depends_on
  // Removed from the configuration: kept only while its problem lasts.
  bool removed = false;
  std::optional<CheckState> state;  // the latest evaluated state
  // State changes within flap_window (oldest first), and the latest change ever.
  std::deque<MonotonicTime> changes;
  std::optional<MonotonicTime> last_change;
  std::optional<OpenIncident> incident;
  std::deque<IncidentOpening> openings;  // within problem_window, oldest first
  std::optional<OpenProblem> problem;
};

using CheckTracks = std::map<std::string, CheckTrack>;

// One incident of a correlation group.
struct CorrelationMember {
  std::string check;
  std::string incident_id;
  CheckState severity = CheckState::kCritical;  // at its opening
  SystemTime opened_at;                         // for records only
  MonotonicTime opened;
  bool open = true;  // false once the incident resolved
};

// Incidents of different checks that opened within correlate_window of the
// group's first one (docs/INCIDENTS.md, Correlation). A group of two or more is
// a problem.
struct CorrelationGroup {
  // The first member's incident_id: its alerts carry it from the opening, so
  // they keep their labels when the group becomes a problem.
  std::string problem_id;
  Duration window{0};                      // the first member's correlate_window
  std::vector<CorrelationMember> members;  // in the order they opened
  std::string key;                         // set when the problem opens
  std::string summary;
  std::string last_action;  // of the last problem record; empty while a single incident

  bool is_problem() const { return members.size() >= 2; }
};

using CorrelationGroups = std::vector<CorrelationGroup>;  // oldest first

// Everything the incident manager saves.
struct IncidentDocument {
  CheckTracks tracks;
  CorrelationGroups groups;
};

}  // namespace vigil
