#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/records/record.h"
#include "agent/rules/rule.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

class SilenceSet;

// One evaluation of a check that has a state, as the incident manager sees it.
struct CheckChange {
  std::string check;
  std::string plugin;
  CheckState state = CheckState::kOk;
  bool changed = false;  // differs from the previous state: an event was emitted
  bool first = false;    // the check's first state ever (does not count as a flap change)
  std::string event_id;  // the event emitted for this evaluation, empty when none
  std::string summary;   // the event's message
  std::string runbook;
  Tags tags;
  bool counts_occurrences = false;      // the incident counts occurrences, not evaluations
  double occurrences = 0;               // what the evaluation's sample counted
  IncidentPolicy policy;                // the check's effective [incidents] settings
  std::vector<std::string> depends_on;  // the check's depends_on
};

// Folds check states into incidents and incidents into problems (docs/INCIDENTS.md;
// their records are in docs/RECORDS.md). Time comes only from `clock`.
class IncidentManager {
 public:
  IncidentManager(const Clock& clock, std::string host);
  ~IncidentManager();

  // Every evaluation that yields a state; returns the records it causes.
  std::vector<Record> on_evaluation(const CheckChange& change);
  // Time-driven work: escalation, renotify, resolve_after, end of flapping,
  // problem expiry. Call at least every second.
  std::vector<Record> tick();
  // The check is gone from the configuration: resolve its open incident.
  std::vector<Record> remove_check(const std::string& check);
  // When tick() next has work, for the loop's timer (nullopt: nothing pending).
  std::optional<MonotonicTime> next_deadline() const;

  // The silences to consult (docs/SILENCES.md); none until set. Every incident
  // record carries the silences that mute its incident at its time, and the
  // resolve of an incident ends its expire-on-resolve silences (through
  // SilenceSet::note_resolved).
  void set_silences(SilenceSet* silences);
  // The silences changed, or time moved one across its start or end: an open
  // incident that became muted or unmuted gets an `update` carrying it.
  std::vector<Record> refresh_silences();

  // `vigil ack`: the open incident with this incident_id, or of this check.
  struct AckOutcome {
    enum class Kind { kAcknowledged, kNotFound, kAlreadyAcknowledged } kind = Kind::kNotFound;
    std::vector<Record> records;  // the `ack` record
    std::string message;          // why not, one line
    std::string incident_id;
  };
  AckOutcome acknowledge(const std::string& incident_or_check, const std::string& author,
                         const std::string& comment);

  // Open incidents and problems as records (status, alertmanager re-sends).
  std::vector<Record> open_incident_records() const;
  std::vector<std::string> open_incidents_json() const;
  std::vector<std::string> open_problems_json() const;
  size_t open_incident_count() const;
  size_t open_problem_count() const;
  // The check names that have state here (to resolve removed checks at start).
  std::vector<std::string> known_checks() const;

  // Persistence: a JSON document; load() adds `downtime` (wall clock, >= 0) to
  // every running duration.
  std::string save() const;
  Status load(const std::string& json, Duration downtime);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
