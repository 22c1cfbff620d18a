#include "agent/incidents/correlation.h"

#include <algorithm>
#include <cmath>

namespace vigil {
namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The first member, unless it depends on another member: then that one (the
// earliest such), and so on down the chain; a cycle stops at a check met twice.
size_t suspected_cause(const CorrelationGroup& g, const CheckTracks& tracks) {
  size_t cause = 0;
  std::vector<bool> seen(g.members.size(), false);
  seen[0] = true;
  for (;;) {
    auto t = tracks.find(g.members[cause].check);
    if (t == tracks.end() || t->second.depends_on.empty()) {
      return cause;
    }
    std::optional<size_t> next;
    for (size_t i = 0; i < g.members.size() && !next; ++i) {
      if (!seen[i] && g.members[i].check != g.members[cause].check &&
          contains(t->second.depends_on, g.members[i].check)) {
        next = i;
      }
    }
    if (!next) {
      return cause;
    }
    seen[*next] = true;
    cause = *next;
  }
}

// `13:00:02Z` of an RFC 3339 stamp.
std::string clock_time(SystemTime t) { return format_rfc3339(t).substr(11, 8) + "Z"; }

std::string offset_text(SystemTime from, SystemTime to) {
  int64_t ms = std::chrono::duration_cast<Duration>(to - from).count();
  int64_t s = std::llround(static_cast<double>(ms) / 1000.0);
  return (s < 0 ? "-" : "+") + std::to_string(s < 0 ? -s : s) + " s";
}

// `disk critical at 13:00:02Z suspected first cause; log +38 s, process +68 s
// opened within 2m` (offsets from the suspected cause's opening).
std::string open_summary(const CorrelationGroup& g, size_t suspect) {
  const CorrelationMember& c = g.members[suspect];
  std::string s = c.check + " " + std::string(state_name(c.severity)) + " at " +
                  clock_time(c.opened_at) + " suspected " +
                  (suspect == 0 ? "first cause" : "cause (depends_on)");
  std::string others;
  for (size_t i = 0; i < g.members.size(); ++i) {
    if (i != suspect) {
      others += (others.empty() ? "" : ", ") + g.members[i].check + " " +
                offset_text(c.opened_at, g.members[i].opened_at);
    }
  }
  return s + "; " + others + " opened within " + format_duration(g.window);
}

// Routing sees the suspected cause's severity, the current one while it is open.
CheckState group_severity(const CorrelationGroup& g, size_t suspect, const CheckTracks& tracks) {
  const CorrelationMember& c = g.members[suspect];
  auto t = tracks.find(c.check);
  if (t != tracks.end() && t->second.incident && t->second.incident->incident_id == c.incident_id) {
    return t->second.incident->severity;
  }
  return c.severity;
}

Record group_record(const RecordContext& ctx, const CorrelationGroup& g, const CheckTracks& tracks,
                    std::string_view action) {
  size_t suspect = suspected_cause(g, tracks);
  auto t = tracks.find(g.members[suspect].check);
  Tags tags = t != tracks.end() ? t->second.tags : Tags{};
  return make_correlation_record(ctx, g, suspect, tags, group_severity(g, suspect, tracks), action);
}

bool has_open_member(const CorrelationGroup& g) {
  return std::any_of(g.members.begin(), g.members.end(),
                     [](const CorrelationMember& m) { return m.open; });
}

}  // namespace

std::optional<Record> correlate_opening(const RecordContext& ctx, CorrelationGroups& groups,
                                        const CheckTracks& tracks, const CheckTrack& track,
                                        const OpenIncident& incident) {
  if (track.policy.correlate_window <= Duration(0)) {
    return std::nullopt;
  }
  CorrelationMember m{track.check,        incident.incident_id, incident.severity,
                      incident.opened_at, incident.opened,      true};
  for (CorrelationGroup& g : groups) {
    if (!has_open_member(g) || incident.opened - g.members.front().opened >= g.window) {
      continue;
    }
    g.members.push_back(std::move(m));
    size_t suspect = suspected_cause(g, tracks);
    g.summary = open_summary(g, suspect);
    std::string action = g.members.size() == 2 ? "open" : "update";
    if (action == "open") {
      g.key = incident_key(ctx.host, "correlation/" + g.members[suspect].check);
    }
    g.last_action = action;
    return group_record(ctx, g, tracks, action);
  }
  CorrelationGroup g;
  g.problem_id = incident.incident_id;
  g.window = track.policy.correlate_window;
  g.members.push_back(std::move(m));
  groups.push_back(std::move(g));
  return std::nullopt;
}

std::optional<Record> correlate_resolved(const RecordContext& ctx, CorrelationGroups& groups,
                                         const CheckTracks& tracks,
                                         const std::string& incident_id) {
  for (auto g = groups.begin(); g != groups.end(); ++g) {
    auto m = std::find_if(g->members.begin(), g->members.end(),
                          [&](const CorrelationMember& x) { return x.incident_id == incident_id; });
    if (m == g->members.end()) {
      continue;
    }
    m->open = false;
    if (has_open_member(*g)) {
      return std::nullopt;
    }
    std::optional<Record> out;
    if (g->is_problem()) {
      size_t suspect = suspected_cause(*g, tracks);
      g->summary = "all " + std::to_string(g->members.size()) +
                   " incidents resolved; suspected cause was " + g->members[suspect].check;
      out = group_record(ctx, *g, tracks, "resolve");
    }
    groups.erase(g);
    return out;
  }
  return std::nullopt;
}

ProblemLink problem_link(const CorrelationGroups& groups, const CheckTracks& tracks,
                         const std::string& incident_id) {
  for (const CorrelationGroup& g : groups) {
    if (!g.is_problem()) {
      continue;
    }
    for (size_t i = 0; i < g.members.size(); ++i) {
      if (g.members[i].incident_id == incident_id) {
        return {g.problem_id, i == suspected_cause(g, tracks) ? "cause" : "symptom"};
      }
    }
  }
  return {};
}

std::vector<Record> open_correlation_problems(const RecordContext& ctx,
                                              const CorrelationGroups& groups,
                                              const CheckTracks& tracks) {
  std::vector<Record> out;
  for (const CorrelationGroup& g : groups) {
    if (g.is_problem()) {
      out.push_back(group_record(ctx, g, tracks, g.last_action));
    }
  }
  return out;
}

}  // namespace vigil
