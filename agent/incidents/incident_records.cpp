#include "agent/incidents/incident_records.h"

#include <nlohmann/json.hpp>

#include "agent/records/record_json.h"
#include "agent/util/uuid.h"

namespace vigil {

std::string incident_key(const std::string& host, const std::string& check) {
  return host + "/" + check;
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) {
    return "0";
  }
  // The largest unit that divides the value exactly, so 90m stays 90m, not 1.5h.
  struct Unit {
    int64_t ms;
    const char* suffix;
  };
  for (Unit u : {Unit{86400000, "d"}, Unit{3600000, "h"}, Unit{60000, "m"}, Unit{1000, "s"}}) {
    if (ms % u.ms == 0) {
      return std::to_string(ms / u.ms) + u.suffix;
    }
  }
  return std::to_string(ms) + "ms";
}

Record make_incident_record(const RecordContext& ctx, const CheckTrack& track,
                            const OpenIncident& incident, std::string_view action, bool resolved,
                            const std::string& event_id, const ProblemLink& link) {
  Record r;
  r.kind = RecordKind::kIncident;
  r.id = uuid_v7(ctx.now);
  r.key = incident_key(ctx.host, track.check);
  r.severity = incident.severity;
  r.escalation_level = incident.escalation_level;
  r.resolved = resolved;
  r.silenced = incident.silenced;
  r.ack = action == "ack";

  nlohmann::ordered_json j = record_header(r.kind, r.id, ctx.now, ctx.host, track.tags);
  j["incident_id"] = incident.incident_id;
  j["key"] = r.key;
  j["action"] = action;
  j["status"] = resolved ? "resolved" : "open";
  j["severity"] = state_name(incident.severity);
  j["opened_at"] = format_rfc3339(incident.opened_at);
  j["resolved_at"] = resolved ? nlohmann::ordered_json(format_rfc3339(ctx.now)) : nullptr;
  j["occurrences"] = incident.occurrences;
  j["escalation_level"] = incident.escalation_level;
  j["flapping"] = incident.flapping;
  j["check"] = track.check;
  j["summary"] = incident.summary;
  j["runbook"] = track.runbook.empty() ? nlohmann::ordered_json(nullptr)
                                       : nlohmann::ordered_json(track.runbook);
  j["event_id"] =
      event_id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(event_id);
  j["problem_id"] = link.problem_id.empty() ? nlohmann::ordered_json(nullptr)
                                            : nlohmann::ordered_json(link.problem_id);
  j["problem_role"] =
      link.role.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(link.role);
  j["silenced"] = incident.silenced;
  j["silence_ids"] = incident.silence_ids;
  j["acknowledged_at"] = incident.acknowledged_at
                             ? nlohmann::ordered_json(format_rfc3339(*incident.acknowledged_at))
                             : nlohmann::ordered_json(nullptr);
  j["acknowledged_by"] = incident.acknowledged_at ? nlohmann::ordered_json(incident.acknowledged_by)
                                                  : nlohmann::ordered_json(nullptr);
  j["ack_comment"] = incident.acknowledged_at && !incident.ack_comment.empty()
                         ? nlohmann::ordered_json(incident.ack_comment)
                         : nlohmann::ordered_json(nullptr);
  r.json = dump_json(j);
  return r;
}

Record make_problem_record(const RecordContext& ctx, const CheckTrack& track,
                           const OpenProblem& problem, std::string_view action) {
  Record r;
  r.kind = RecordKind::kProblem;
  r.id = uuid_v7(ctx.now);
  r.key = incident_key(ctx.host, track.check);
  // Problems have no severity of their own; routing sees the latest incident's.
  r.severity = track.incident ? track.incident->severity : CheckState::kOk;
  r.resolved = action == "resolve";

  nlohmann::ordered_json j = record_header(r.kind, r.id, ctx.now, ctx.host, track.tags);
  j["problem_id"] = problem.problem_id;
  j["key"] = r.key;
  j["action"] = action;
  j["cause"] = "recurrence";
  j["incident_count"] = problem.incident_ids.size();
  j["incident_ids"] = problem.incident_ids;
  j["suspected_incident_id"] = nullptr;
  j["suspected_check"] = nullptr;
  j["first_seen"] = format_rfc3339(problem.first_seen);
  j["last_seen"] = format_rfc3339(problem.last_seen);
  j["summary"] = problem.summary;
  r.json = dump_json(j);
  return r;
}

Record make_correlation_record(const RecordContext& ctx, const CorrelationGroup& group,
                               size_t suspect, const Tags& tags, CheckState severity,
                               std::string_view action) {
  Record r;
  r.kind = RecordKind::kProblem;
  r.id = uuid_v7(ctx.now);
  r.key = group.key;
  r.severity = severity;
  r.resolved = action == "resolve";

  std::vector<std::string> ids;
  for (const CorrelationMember& m : group.members) {
    ids.push_back(m.incident_id);
  }
  const CorrelationMember& cause = group.members[suspect];
  nlohmann::ordered_json j = record_header(r.kind, r.id, ctx.now, ctx.host, tags);
  j["problem_id"] = group.problem_id;
  j["key"] = r.key;
  j["action"] = action;
  j["cause"] = "correlation";
  j["incident_count"] = ids.size();
  j["incident_ids"] = ids;
  j["suspected_incident_id"] = cause.incident_id;
  j["suspected_check"] = cause.check;
  j["first_seen"] = format_rfc3339(group.members.front().opened_at);
  j["last_seen"] = format_rfc3339(group.members.back().opened_at);
  j["summary"] = group.summary;
  r.json = dump_json(j);
  return r;
}

}  // namespace vigil
