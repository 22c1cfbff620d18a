#include "agent/incidents/problem_tracker.h"

#include "agent/util/uuid.h"

namespace vigil {
namespace {

// An opening counts while it is younger than problem_window: at exactly the window
// it has left it, the same boundary at which an open problem resolves.
void forget_old_openings(CheckTrack& track, MonotonicTime now) {
  while (!track.openings.empty() &&
         now - track.openings.front().at >= track.policy.problem_window) {
    track.openings.pop_front();
  }
}

std::string problem_summary(const CheckTrack& track, const OpenProblem& problem,
                            const std::string& key) {
  return std::to_string(problem.incident_ids.size()) + " incidents of " + key + " within " +
         format_duration(track.policy.problem_window) +
         "; latest: " + (track.incident ? track.incident->summary : std::string("(none)"));
}

}  // namespace

std::optional<Record> note_incident_opened(const RecordContext& ctx, CheckTrack& track,
                                           const OpenIncident& incident, MonotonicTime now) {
  if (track.policy.problem_count <= 0) {
    return std::nullopt;
  }
  forget_old_openings(track, now);
  track.openings.push_back({now, incident.opened_at, incident.incident_id});
  std::string key = incident_key(ctx.host, track.check);

  if (track.problem) {
    OpenProblem& p = *track.problem;
    p.incident_ids.push_back(incident.incident_id);
    p.last_seen = incident.opened_at;
    p.last_incident = now;
    p.summary = problem_summary(track, p, key);
    p.last_action = "update";
    return make_problem_record(ctx, track, p, "update");
  }
  if (track.openings.size() < static_cast<size_t>(track.policy.problem_count)) {
    return std::nullopt;
  }
  OpenProblem p;
  p.problem_id = uuid_v7(ctx.now);
  for (const IncidentOpening& o : track.openings) {
    p.incident_ids.push_back(o.incident_id);
  }
  p.first_seen = track.openings.front().wall;
  p.last_seen = incident.opened_at;
  p.last_incident = now;
  p.summary = problem_summary(track, p, key);
  track.problem = std::move(p);
  return make_problem_record(ctx, track, *track.problem, "open");
}

std::optional<Record> expire_problem(const RecordContext& ctx, CheckTrack& track,
                                     MonotonicTime now) {
  forget_old_openings(track, now);
  if (!track.problem || now - track.problem->last_incident < track.policy.problem_window) {
    return std::nullopt;
  }
  OpenProblem p = std::move(*track.problem);
  track.problem.reset();
  p.summary = "no new incident of " + incident_key(ctx.host, track.check) + " for " +
              format_duration(track.policy.problem_window);
  return make_problem_record(ctx, track, p, "resolve");
}

std::optional<MonotonicTime> problem_deadline(const CheckTrack& track) {
  if (!track.problem) {
    return std::nullopt;
  }
  return track.problem->last_incident + track.policy.problem_window;
}

}  // namespace vigil
