#include "agent/incidents/incident_manager.h"

#include <algorithm>
#include <cmath>

#include "agent/incidents/correlation.h"
#include "agent/incidents/incident_records.h"
#include "agent/incidents/incident_state.h"
#include "agent/incidents/incident_state_json.h"
#include "agent/incidents/problem_tracker.h"
#include "agent/silences/silence_set.h"
#include "agent/util/uuid.h"

namespace vigil {
namespace {

// A sample's occurrences as a count (a plugin reports them as a double).
uint64_t occurrence_count(double occurrences) {
  if (!std::isfinite(occurrences) || occurrences <= 0) {
    return 0;
  }
  return static_cast<uint64_t>(std::llround(occurrences));
}

// A change counts for flapping while it is younger than flap_window. At exactly the
// window it has left, which is also the moment "no change for flap_window" holds.
void forget_old_changes(CheckTrack& track, MonotonicTime now) {
  while (!track.changes.empty() && now - track.changes.front() >= track.policy.flap_window) {
    track.changes.pop_front();
  }
}

void keep_earliest(std::optional<MonotonicTime>* best, MonotonicTime t) {
  if (!*best || t < **best) {
    *best = t;
  }
}

// A worse severity clears an ack: critical above warning and unknown, which rank
// alike as they do for min_severity.
int severity_rank(CheckState s) {
  return s == CheckState::kCritical ? 2 : (s == CheckState::kOk ? 0 : 1);
}

bool acknowledged(const OpenIncident& inc) { return inc.acknowledged_at.has_value(); }

}  // namespace

struct IncidentManager::Impl {
  const Clock& clock;
  std::string host;
  CheckTracks tracks;
  CorrelationGroups groups;
  SilenceSet* silences = nullptr;

  // Which silences mute the track's open incident now.
  void mark_silences(const CheckTrack& t, OpenIncident& inc) const {
    inc.silence_ids.clear();
    if (silences != nullptr) {
      SilenceSubject subject{t.check, t.plugin, std::string(state_name(inc.severity)), t.tags};
      inc.silence_ids = silences->muting(subject, clock.wall());
    }
    inc.silenced = !inc.silence_ids.empty();
  }

  // An open incident that became muted or unmuted since its last record says so
  // at once, with an `update`: an output that skips silenced incidents gets it as
  // the first record it sends of the incident.
  void refresh(CheckTrack& t, MonotonicTime now, std::vector<Record>* out) {
    if (!t.incident) {
      return;
    }
    bool was = t.incident->silenced;
    mark_silences(t, *t.incident);
    if (t.incident->silenced != was) {
      emit(t, "update", "", now, out);
    }
  }

  RecordContext context() const { return RecordContext{host, clock.wall()}; }

  ProblemLink link(const OpenIncident& inc) const {
    return problem_link(groups, tracks, inc.incident_id);
  }

  // Emits a record for the track's open incident and restarts its renotify timer.
  void emit(CheckTrack& t, std::string_view action, const std::string& event_id, MonotonicTime now,
            std::vector<Record>* out) {
    OpenIncident& inc = *t.incident;
    mark_silences(t, inc);
    RecordContext ctx = context();
    if (action == "open") {
      ctx.now = inc.opened_at;  // an open record's time is the incident's opened_at, exactly
    }
    out->push_back(make_incident_record(ctx, t, inc, action, false, event_id, link(inc)));
    inc.last_record = now;
    inc.last_action = std::string(action);
    inc.last_event_id = event_id;
  }

  void resolve(CheckTrack& t, const std::string& event_id, std::vector<Record>* out) {
    std::string id = t.incident->incident_id;
    mark_silences(t, *t.incident);
    RecordContext ctx = context();
    out->push_back(
        make_incident_record(ctx, t, *t.incident, "resolve", true, event_id, link(*t.incident)));
    std::vector<std::string> muted_by = std::move(t.incident->silence_ids);
    t.incident.reset();
    if (silences != nullptr && !muted_by.empty()) {
      silences->note_resolved(muted_by, ctx.now);  // it ends at the resolve, to the millisecond
    }
    if (std::optional<Record> p = correlate_resolved(context(), groups, tracks, id)) {
      out->push_back(std::move(*p));
    }
  }

  void open(CheckTrack& t, const CheckChange& change, bool flapping, MonotonicTime now,
            std::vector<Record>* out) {
    OpenIncident inc;
    SystemTime wall = clock.wall();
    inc.incident_id = uuid_v7(wall);
    inc.severity = change.state;
    inc.opened_at = wall;
    inc.opened = now;
    inc.occurrences = change.counts_occurrences ? occurrence_count(change.occurrences) : 1;
    inc.flapping = flapping;
    inc.summary = change.summary.empty()
                      ? "check " + change.check + " is " + std::string(state_name(change.state))
                      : change.summary;
    t.incident = std::move(inc);
    // Joined first, so that its open record names the problem it joined.
    std::optional<Record> correlated = correlate_opening(context(), groups, tracks, t, *t.incident);
    emit(t, "open", change.event_id, now, out);
    if (correlated) {
      out->push_back(std::move(*correlated));
    }
    if (std::optional<Record> p = note_incident_opened(context(), t, *t.incident, now)) {
      out->push_back(std::move(*p));
    }
  }

  // The time-driven rules for one check, in the order that keeps them consistent:
  // the end of flapping may resolve, a resolved incident neither escalates nor
  // renotifies, and an escalation is itself a record that restarts renotify.
  void run_timers(CheckTrack& t, MonotonicTime now, std::vector<Record>* out) {
    forget_old_changes(t, now);
    const IncidentPolicy& p = t.policy;
    if (t.incident && t.incident->flapping && t.last_change &&
        now - *t.last_change >= p.flap_window) {
      OpenIncident& inc = *t.incident;
      inc.flapping = false;
      // An ok check announces the end of flapping with its resolve (below, once
      // resolve_after has passed); a failing one with an update.
      if (!inc.ok_since) {
        emit(t, "update", "", now, out);
      }
    }
    if (t.incident && !t.incident->flapping && t.incident->ok_since &&
        now - *t.incident->ok_since >= p.resolve_after) {
      resolve(t, "", out);
    }
    // An acknowledged incident has someone on it: it neither escalates nor
    // renotifies until a worse severity clears the ack.
    if (t.incident && !acknowledged(*t.incident)) {
      OpenIncident& inc = *t.incident;
      while (static_cast<size_t>(inc.escalation_level) < p.escalate_after.size() &&
             now - inc.opened >= p.escalate_after[static_cast<size_t>(inc.escalation_level)]) {
        ++inc.escalation_level;
        emit(t, "escalate", "", now, out);
      }
      if (p.renotify > Duration(0) && now - inc.last_record >= p.renotify) {
        emit(t, "renotify", "", now, out);
      }
    }
    if (std::optional<Record> r = expire_problem(context(), t, now)) {
      out->push_back(std::move(*r));
    }
  }

  std::optional<MonotonicTime> deadline(const CheckTrack& t) const {
    std::optional<MonotonicTime> best;
    const IncidentPolicy& p = t.policy;
    if (t.incident) {
      const OpenIncident& inc = *t.incident;
      if (inc.flapping) {
        if (t.last_change) {
          keep_earliest(&best, *t.last_change + p.flap_window);
        }
      } else if (inc.ok_since) {
        keep_earliest(&best, *inc.ok_since + p.resolve_after);
      }
      if (!acknowledged(inc) &&
          static_cast<size_t>(inc.escalation_level) < p.escalate_after.size()) {
        keep_earliest(&best,
                      inc.opened + p.escalate_after[static_cast<size_t>(inc.escalation_level)]);
      }
      if (!acknowledged(inc) && p.renotify > Duration(0)) {
        keep_earliest(&best, inc.last_record + p.renotify);
      }
    }
    if (std::optional<MonotonicTime> pd = problem_deadline(t)) {
      keep_earliest(&best, *pd);
    }
    return best;
  }

  void fold(CheckTrack& t, const CheckChange& change, bool reached_flap, MonotonicTime now,
            std::vector<Record>* out);

  // A removed check is kept only while its problem still has to expire.
  void forget_if_removed(const std::string& check) {
    auto it = tracks.find(check);
    if (it != tracks.end() && it->second.removed && !it->second.incident && !it->second.problem) {
      tracks.erase(it);
    }
  }
};

IncidentManager::IncidentManager(const Clock& clock, std::string host)
    : impl_(std::make_unique<Impl>(Impl{clock, std::move(host), {}, {}})) {}

IncidentManager::~IncidentManager() = default;

std::vector<Record> IncidentManager::on_evaluation(const CheckChange& change) {
  std::vector<Record> out;
  MonotonicTime now = impl_->clock.monotonic();
  CheckTrack& t = impl_->tracks[change.check];
  t.check = change.check;
  t.plugin = change.plugin;
  t.removed = false;
  t.policy = change.policy;
  t.tags = change.tags;
  t.runbook = change.runbook;
  t.counts_occurrences = change.counts_occurrences;
  t.depends_on = change.depends_on;
  // Time-driven work first, so this evaluation meets the incident as it is now
  // whether or not the loop's timer has fired yet.
  impl_->run_timers(t, now, &out);

  bool reached_flap = false;
  if (change.changed && !change.first) {
    t.changes.push_back(now);
    t.last_change = now;
    forget_old_changes(t, now);
    reached_flap =
        t.policy.flap_changes > 0 && t.changes.size() >= static_cast<size_t>(t.policy.flap_changes);
  }
  t.state = change.state;
  bool ok = change.state == CheckState::kOk;

  if (!t.incident) {
    if (!ok) {
      impl_->open(t, change, reached_flap, now, &out);
    }
    return out;
  }
  impl_->fold(t, change, reached_flap, now, &out);
  // A severity change may have muted or unmuted it (a `severity` matcher) without
  // a record saying so (while it flaps).
  impl_->refresh(t, now, &out);
  return out;
}

// An evaluation of a check whose incident is open.
void IncidentManager::Impl::fold(CheckTrack& t, const CheckChange& change, bool reached_flap,
                                 MonotonicTime now, std::vector<Record>* out_records) {
  std::vector<Record>& out = *out_records;
  bool ok = change.state == CheckState::kOk;

  OpenIncident& inc = *t.incident;
  if (change.counts_occurrences) {
    inc.occurrences += occurrence_count(change.occurrences);
  }
  if (change.changed && !change.summary.empty()) {
    inc.summary = change.summary;
  }
  bool starts_flapping = reached_flap && !inc.flapping;
  if (starts_flapping) {
    inc.flapping = true;
  }

  if (ok) {
    if (!inc.ok_since) {
      inc.ok_since = now;
    }
    if (starts_flapping) {
      emit(t, "update", change.event_id, now, &out);
    } else if (!inc.flapping && now - *inc.ok_since >= t.policy.resolve_after) {
      resolve(t, change.event_id, &out);
    }
    return;
  }

  // Not ok: a relapse (if the incident was waiting to resolve) or a later event.
  inc.ok_since.reset();
  if (change.changed && !change.counts_occurrences) {
    ++inc.occurrences;
  }
  CheckState previous = inc.severity;
  inc.severity = change.state;
  // A worse severity is news the person who acknowledged did not take on: the
  // ack is cleared, said with an update even while flapping, and escalation
  // resumes (steps already due follow at once).
  bool ack_cleared = acknowledged(inc) && severity_rank(change.state) > severity_rank(previous);
  if (ack_cleared) {
    inc.acknowledged_at.reset();
    inc.acknowledged_by.clear();
    inc.ack_comment.clear();
  }
  // While it flaps, severity changes are folded in silently: the next record
  // carries the current severity.
  if (starts_flapping || ack_cleared || (!inc.flapping && previous != change.state)) {
    emit(t, "update", change.event_id, now, &out);
  }
}

std::vector<Record> IncidentManager::tick() {
  std::vector<Record> out;
  MonotonicTime now = impl_->clock.monotonic();
  std::vector<std::string> done;
  for (auto& [name, t] : impl_->tracks) {
    impl_->run_timers(t, now, &out);
    if (t.removed && !t.incident && !t.problem) {
      done.push_back(name);
    }
  }
  for (const std::string& name : done) {
    impl_->forget_if_removed(name);
  }
  return out;
}

std::vector<Record> IncidentManager::remove_check(const std::string& check) {
  std::vector<Record> out;
  auto it = impl_->tracks.find(check);
  if (it == impl_->tracks.end()) {
    return out;
  }
  CheckTrack& t = it->second;
  t.removed = true;
  if (t.incident) {
    t.incident->summary = "check " + check + " was removed from the configuration";
    impl_->resolve(t, "", &out);
  }
  // Its state and flap history go; an open problem stays until its window passes
  // (docs/INCIDENTS.md: a problem resolves once problem_window passes with no new incident).
  t.state.reset();
  t.changes.clear();
  t.last_change.reset();
  impl_->forget_if_removed(check);
  return out;
}

std::optional<MonotonicTime> IncidentManager::next_deadline() const {
  std::optional<MonotonicTime> best;
  for (const auto& [name, t] : impl_->tracks) {
    if (std::optional<MonotonicTime> d = impl_->deadline(t)) {
      keep_earliest(&best, *d);
    }
  }
  return best;
}

void IncidentManager::set_silences(SilenceSet* silences) { impl_->silences = silences; }

std::vector<Record> IncidentManager::refresh_silences() {
  std::vector<Record> out;
  MonotonicTime now = impl_->clock.monotonic();
  for (auto& [name, t] : impl_->tracks) {
    impl_->refresh(t, now, &out);
  }
  return out;
}

IncidentManager::AckOutcome IncidentManager::acknowledge(const std::string& target,
                                                         const std::string& author,
                                                         const std::string& comment) {
  AckOutcome result;
  CheckTrack* found = nullptr;
  for (auto& [name, t] : impl_->tracks) {
    if (t.incident && (t.incident->incident_id == target || t.check == target)) {
      found = &t;
      break;
    }
  }
  if (found == nullptr) {
    result.message = "no open incident has the id or check '" + target + "'";
    return result;
  }
  OpenIncident& inc = *found->incident;
  result.incident_id = inc.incident_id;
  if (inc.acknowledged_at) {
    result.kind = AckOutcome::Kind::kAlreadyAcknowledged;
    result.message = "incident " + inc.incident_id + " of " + found->check +
                     " was acknowledged by " + inc.acknowledged_by + " at " +
                     format_rfc3339(*inc.acknowledged_at);
    return result;
  }
  inc.acknowledged_at = impl_->clock.wall();
  inc.acknowledged_by = author;
  inc.ack_comment = comment;
  impl_->emit(*found, "ack", "", impl_->clock.monotonic(), &result.records);
  result.kind = AckOutcome::Kind::kAcknowledged;
  return result;
}

std::vector<Record> IncidentManager::open_incident_records() const {
  // A snapshot of each open incident as a record: a fresh id and the current
  // time, the action and event of the last record sent, every value current.
  std::vector<Record> out;
  for (const auto& [name, t] : impl_->tracks) {
    if (t.incident) {
      out.push_back(make_incident_record(impl_->context(), t, *t.incident, t.incident->last_action,
                                         false, t.incident->last_event_id,
                                         impl_->link(*t.incident)));
    }
  }
  return out;
}

std::vector<std::string> IncidentManager::open_incidents_json() const {
  std::vector<std::string> out;
  for (Record& r : open_incident_records()) {
    out.push_back(std::move(r.json));
  }
  return out;
}

std::vector<std::string> IncidentManager::open_problems_json() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : impl_->tracks) {
    if (t.problem) {
      out.push_back(
          make_problem_record(impl_->context(), t, *t.problem, t.problem->last_action).json);
    }
  }
  for (Record& r : open_correlation_problems(impl_->context(), impl_->groups, impl_->tracks)) {
    out.push_back(std::move(r.json));
  }
  return out;
}

size_t IncidentManager::open_incident_count() const {
  return static_cast<size_t>(
      std::count_if(impl_->tracks.begin(), impl_->tracks.end(),
                    [](const auto& e) { return e.second.incident.has_value(); }));
}

size_t IncidentManager::open_problem_count() const {
  return static_cast<size_t>(
             std::count_if(impl_->tracks.begin(), impl_->tracks.end(),
                           [](const auto& e) { return e.second.problem.has_value(); })) +
         static_cast<size_t>(
             std::count_if(impl_->groups.begin(), impl_->groups.end(),
                           [](const CorrelationGroup& g) { return g.is_problem(); }));
}

std::vector<std::string> IncidentManager::known_checks() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : impl_->tracks) {
    if (!t.removed) {
      out.push_back(name);
    }
  }
  return out;
}

std::string IncidentManager::save() const {
  return save_document(impl_->tracks, impl_->groups, impl_->clock.monotonic());
}

Status IncidentManager::load(const std::string& json, Duration downtime) {
  Result<IncidentDocument> loaded = load_document(json, impl_->clock.monotonic(), downtime);
  if (!loaded.ok()) {
    return loaded.error_info();
  }
  impl_->tracks = std::move(loaded.value().tracks);
  impl_->groups = std::move(loaded.value().groups);
  return {};
}

}  // namespace vigil
