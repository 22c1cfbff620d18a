#include "agent/incidents/incident_state_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace vigil {
namespace {

using nlohmann::json;

constexpr int kVersion = 1;

int64_t ago_ms(MonotonicTime now, MonotonicTime t) {
  return std::chrono::duration_cast<Duration>(now - t).count();
}

json ms_or_null(std::optional<MonotonicTime> t, MonotonicTime now) {
  return t ? json(ago_ms(now, *t)) : json(nullptr);
}

json policy_json(const IncidentPolicy& p) {
  json esc = json::array();
  for (Duration d : p.escalate_after) {
    esc.push_back(d.count());
  }
  return {{"escalate_after_ms", esc},
          {"renotify_ms", p.renotify.count()},
          {"resolve_after_ms", p.resolve_after.count()},
          {"flap_changes", p.flap_changes},
          {"flap_window_ms", p.flap_window.count()},
          {"problem_count", p.problem_count},
          {"problem_window_ms", p.problem_window.count()},
          {"correlate_window_ms", p.correlate_window.count()}};
}

json incident_json(const OpenIncident& inc, MonotonicTime now) {
  return {{"incident_id", inc.incident_id},
          {"severity", state_name(inc.severity)},
          {"opened_at_ms", to_millis(inc.opened_at)},
          {"opened_ago_ms", ago_ms(now, inc.opened)},
          {"occurrences", inc.occurrences},
          {"escalation_level", inc.escalation_level},
          {"flapping", inc.flapping},
          {"summary", inc.summary},
          {"ok_since_ago_ms", ms_or_null(inc.ok_since, now)},
          {"last_record_ago_ms", ago_ms(now, inc.last_record)},
          {"last_action", inc.last_action},
          {"last_event_id", inc.last_event_id},
          {"silenced", inc.silenced},
          {"silence_ids", inc.silence_ids},
          {"acknowledged_at_ms",
           inc.acknowledged_at ? json(to_millis(*inc.acknowledged_at)) : json(nullptr)},
          {"acknowledged_by", inc.acknowledged_by},
          {"ack_comment", inc.ack_comment}};
}

json problem_json(const OpenProblem& p, MonotonicTime now) {
  return {{"problem_id", p.problem_id},
          {"incident_ids", p.incident_ids},
          {"first_seen_ms", to_millis(p.first_seen)},
          {"last_seen_ms", to_millis(p.last_seen)},
          {"last_incident_ago_ms", ago_ms(now, p.last_incident)},
          {"summary", p.summary},
          {"last_action", p.last_action}};
}

json track_json(const CheckTrack& t, MonotonicTime now) {
  json tags = json::array();
  for (const auto& [k, v] : t.tags) {
    tags.push_back({k, v});
  }
  json changes = json::array();
  for (MonotonicTime c : t.changes) {
    changes.push_back(ago_ms(now, c));
  }
  json openings = json::array();
  for (const IncidentOpening& o : t.openings) {
    openings.push_back({{"ago_ms", ago_ms(now, o.at)},
                        {"wall_ms", to_millis(o.wall)},
                        {"incident_id", o.incident_id}});
  }
  return {{"check", t.check},
          {"plugin", t.plugin},
          {"removed", t.removed},
          {"state", t.state ? json(state_name(*t.state)) : json(nullptr)},
          {"tags", tags},
          {"runbook", t.runbook},
          {"is_log", t.counts_occurrences},
          {"depends_on", t.depends_on},
          {"policy", policy_json(t.policy)},
          {"changes_ago_ms", changes},
          {"last_change_ago_ms", ms_or_null(t.last_change, now)},
          {"openings", openings},
          {"incident", t.incident ? incident_json(*t.incident, now) : json(nullptr)},
          {"problem", t.problem ? problem_json(*t.problem, now) : json(nullptr)}};
}

json group_json(const CorrelationGroup& g, MonotonicTime now) {
  json members = json::array();
  for (const CorrelationMember& m : g.members) {
    members.push_back({{"check", m.check},
                       {"incident_id", m.incident_id},
                       {"severity", state_name(m.severity)},
                       {"opened_at_ms", to_millis(m.opened_at)},
                       {"opened_ago_ms", ago_ms(now, m.opened)},
                       {"open", m.open}});
  }
  return {{"problem_id", g.problem_id}, {"window_ms", g.window.count()}, {"key", g.key},
          {"summary", g.summary},       {"last_action", g.last_action},  {"members", members}};
}

// Reads typed fields of one JSON object. The first missing or mistyped field is
// remembered and later reads return defaults, so a caller reads everything and
// checks ok() once, instead of testing each field.
class Reader {
 public:
  Reader(const json& obj, std::string where, std::string* error)
      : obj_(obj), where_(std::move(where)), error_(error) {
    if (!obj_.is_object()) {
      fail("", "an object");
    }
  }

  bool ok() const { return error_->empty(); }
  bool has(const char* k) const { return get(k) != nullptr; }

  std::string str(const char* k) {
    const json* v = get(k);
    if (v == nullptr || !v->is_string()) {
      fail(k, "a string");
      return {};
    }
    return v->get<std::string>();
  }
  bool boolean(const char* k) {
    const json* v = get(k);
    if (v == nullptr || !v->is_boolean()) {
      fail(k, "a boolean");
      return false;
    }
    return v->get<bool>();
  }
  int64_t integer(const char* k) {
    const json* v = get(k);
    if (v == nullptr || !v->is_number_integer()) {
      fail(k, "an integer");
      return 0;
    }
    return v->get<int64_t>();
  }
  std::optional<std::string> str_or_null(const char* k) {
    const json* v = get(k);
    if (v != nullptr && v->is_null()) {
      return std::nullopt;
    }
    return str(k);
  }
  std::optional<int64_t> integer_or_null(const char* k) {
    const json* v = get(k);
    if (v != nullptr && v->is_null()) {
      return std::nullopt;
    }
    return integer(k);
  }
  const json& array(const char* k) {
    const json* v = get(k);
    if (v == nullptr || !v->is_array()) {
      fail(k, "an array");
      return empty_array();
    }
    return *v;
  }
  // An object, or nullptr for null.
  const json* object_or_null(const char* k) {
    const json* v = get(k);
    if (v != nullptr && v->is_null()) {
      return nullptr;
    }
    if (v == nullptr || !v->is_object()) {
      fail(k, "an object or null");
      return nullptr;
    }
    return v;
  }
  const json& object(const char* k) {
    const json* v = object_or_null(k);
    if (v == nullptr) {
      fail(k, "an object");
      return empty_object();
    }
    return *v;
  }

  void fail(const std::string& k, const char* expected) {
    if (error_->empty()) {
      *error_ = where_ + (k.empty() ? "" : "." + k) + " is not " + expected;
    }
  }

 private:
  const json* get(const char* k) const {
    if (!obj_.is_object()) {
      return nullptr;
    }
    auto it = obj_.find(k);
    return it == obj_.end() ? nullptr : &*it;
  }
  static const json& empty_array() {
    static const json* a = new json(json::array());
    return *a;
  }
  static const json& empty_object() {
    static const json* o = new json(json::object());
    return *o;
  }

  const json& obj_;
  std::string where_;
  std::string* error_;
};

// Rebuilds a monotonic instant from its saved age; a negative age (a file from a
// confused writer) counts as now rather than the future.
struct Rebase {
  MonotonicTime now;
  Duration downtime;
  MonotonicTime operator()(int64_t ago) const {
    return now - Duration(std::max<int64_t>(ago, 0)) - downtime;
  }
};

Duration non_negative(int64_t ms) { return Duration(std::max<int64_t>(ms, 0)); }

IncidentPolicy read_policy(const json& j, const std::string& where, std::string* error) {
  Reader r(j, where, error);
  IncidentPolicy p;
  p.escalate_after.clear();
  for (const json& d : r.array("escalate_after_ms")) {
    if (!d.is_number_integer()) {
      r.fail("escalate_after_ms", "an array of integers");
      break;
    }
    p.escalate_after.push_back(non_negative(d.get<int64_t>()));
  }
  p.renotify = non_negative(r.integer("renotify_ms"));
  p.resolve_after = non_negative(r.integer("resolve_after_ms"));
  p.flap_changes = static_cast<int>(r.integer("flap_changes"));
  p.flap_window = non_negative(r.integer("flap_window_ms"));
  p.problem_count = static_cast<int>(r.integer("problem_count"));
  p.problem_window = non_negative(r.integer("problem_window_ms"));
  if (r.has("correlate_window_ms")) {
    p.correlate_window = non_negative(r.integer("correlate_window_ms"));
  }
  return p;
}

CheckState read_state(Reader& r, const char* k, const std::string& text) {
  std::optional<CheckState> s = parse_state(text);
  if (!s) {
    r.fail(k, "a state name");
    return CheckState::kUnknown;
  }
  return *s;
}

std::optional<OpenIncident> read_incident(const json& j, const std::string& where,
                                          const Rebase& rebase, std::string* error) {
  Reader r(j, where, error);
  OpenIncident inc;
  inc.incident_id = r.str("incident_id");
  inc.severity = read_state(r, "severity", r.str("severity"));
  inc.opened_at = from_millis(r.integer("opened_at_ms"));
  inc.opened = rebase(r.integer("opened_ago_ms"));
  inc.occurrences = static_cast<uint64_t>(std::max<int64_t>(r.integer("occurrences"), 0));
  inc.escalation_level = static_cast<int>(std::max<int64_t>(r.integer("escalation_level"), 0));
  inc.flapping = r.boolean("flapping");
  inc.summary = r.str("summary");
  if (std::optional<int64_t> ok = r.integer_or_null("ok_since_ago_ms")) {
    inc.ok_since = rebase(*ok);
  }
  inc.last_record = rebase(r.integer("last_record_ago_ms"));
  inc.last_action = r.str("last_action");
  inc.last_event_id = r.str("last_event_id");
  // Silences and acks came later: older documents have neither.
  if (r.has("silenced")) {
    inc.silenced = r.boolean("silenced");
    for (const json& id : r.array("silence_ids")) {
      if (!id.is_string()) {
        r.fail("silence_ids", "an array of strings");
        break;
      }
      inc.silence_ids.push_back(id.get<std::string>());
    }
  }
  if (r.has("acknowledged_at_ms")) {
    if (std::optional<int64_t> at = r.integer_or_null("acknowledged_at_ms")) {
      inc.acknowledged_at = from_millis(*at);
    }
    inc.acknowledged_by = r.str("acknowledged_by");
    inc.ack_comment = r.str("ack_comment");
  }
  if (!r.ok()) {
    return std::nullopt;
  }
  return inc;
}

std::optional<OpenProblem> read_problem(const json& j, const std::string& where,
                                        const Rebase& rebase, std::string* error) {
  Reader r(j, where, error);
  OpenProblem p;
  p.problem_id = r.str("problem_id");
  for (const json& id : r.array("incident_ids")) {
    if (!id.is_string()) {
      r.fail("incident_ids", "an array of strings");
      break;
    }
    p.incident_ids.push_back(id.get<std::string>());
  }
  p.first_seen = from_millis(r.integer("first_seen_ms"));
  p.last_seen = from_millis(r.integer("last_seen_ms"));
  p.last_incident = rebase(r.integer("last_incident_ago_ms"));
  p.summary = r.str("summary");
  p.last_action = r.str("last_action");
  if (!r.ok()) {
    return std::nullopt;
  }
  return p;
}

std::optional<CheckTrack> read_track(const json& j, const std::string& where, const Rebase& rebase,
                                     std::string* error) {
  Reader r(j, where, error);
  CheckTrack t;
  t.check = r.str("check");
  if (r.has("plugin")) {  // older documents lack it
    t.plugin = r.str("plugin");
  }
  t.removed = r.boolean("removed");
  if (std::optional<std::string> state = r.str_or_null("state")) {
    t.state = read_state(r, "state", *state);
  }
  for (const json& tag : r.array("tags")) {
    if (!tag.is_array() || tag.size() != 2 || !tag[0].is_string() || !tag[1].is_string()) {
      r.fail("tags", "an array of [key, value] strings");
      break;
    }
    t.tags.emplace_back(tag[0].get<std::string>(), tag[1].get<std::string>());
  }
  t.runbook = r.str("runbook");
  t.counts_occurrences =
      r.boolean("is_log");  // the key keeps its first name: saved states stay readable
  if (r.has("depends_on")) {
    for (const json& d : r.array("depends_on")) {
      if (!d.is_string()) {
        r.fail("depends_on", "an array of strings");
        break;
      }
      t.depends_on.push_back(d.get<std::string>());
    }
  }
  t.policy = read_policy(r.object("policy"), where + ".policy", error);
  for (const json& c : r.array("changes_ago_ms")) {
    if (!c.is_number_integer()) {
      r.fail("changes_ago_ms", "an array of integers");
      break;
    }
    t.changes.push_back(rebase(c.get<int64_t>()));
  }
  if (std::optional<int64_t> last = r.integer_or_null("last_change_ago_ms")) {
    t.last_change = rebase(*last);
  }
  const json& openings = r.array("openings");
  for (size_t i = 0; i < openings.size(); ++i) {
    Reader o(openings[i], where + ".openings[" + std::to_string(i) + "]", error);
    IncidentOpening op;
    op.at = rebase(o.integer("ago_ms"));
    op.wall = from_millis(o.integer("wall_ms"));
    op.incident_id = o.str("incident_id");
    t.openings.push_back(std::move(op));
  }
  if (const json* inc = r.object_or_null("incident")) {
    t.incident = read_incident(*inc, where + ".incident", rebase, error);
  }
  if (const json* p = r.object_or_null("problem")) {
    t.problem = read_problem(*p, where + ".problem", rebase, error);
  }
  if (!r.ok()) {
    return std::nullopt;
  }
  return t;
}

std::optional<CorrelationGroup> read_group(const json& j, const std::string& where,
                                           const Rebase& rebase, std::string* error) {
  Reader r(j, where, error);
  CorrelationGroup g;
  g.problem_id = r.str("problem_id");
  g.window = non_negative(r.integer("window_ms"));
  g.key = r.str("key");
  g.summary = r.str("summary");
  g.last_action = r.str("last_action");
  const json& members = r.array("members");
  for (size_t i = 0; i < members.size(); ++i) {
    Reader m(members[i], where + ".members[" + std::to_string(i) + "]", error);
    CorrelationMember member;
    member.check = m.str("check");
    member.incident_id = m.str("incident_id");
    member.severity = read_state(m, "severity", m.str("severity"));
    member.opened_at = from_millis(m.integer("opened_at_ms"));
    member.opened = rebase(m.integer("opened_ago_ms"));
    member.open = m.boolean("open");
    g.members.push_back(std::move(member));
  }
  if (g.members.empty()) {
    r.fail("members", "a non-empty array");
  }
  if (!r.ok()) {
    return std::nullopt;
  }
  return g;
}

}  // namespace

std::string save_document(const CheckTracks& tracks, const CorrelationGroups& groups,
                          MonotonicTime now) {
  json checks = json::array();
  for (const auto& [name, t] : tracks) {
    checks.push_back(track_json(t, now));
  }
  json correlations = json::array();
  for (const CorrelationGroup& g : groups) {
    correlations.push_back(group_json(g, now));
  }
  json doc = {{"version", kVersion}, {"checks", checks}, {"correlations", correlations}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<IncidentDocument> load_document(const std::string& text, MonotonicTime now,
                                       Duration downtime) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    return make_error("incident state: not valid JSON");
  }
  std::string error;
  Reader r(doc, "incident state", &error);
  if (r.integer("version") != kVersion && r.ok()) {
    return make_error("incident state: unsupported version");
  }
  Rebase rebase{now, std::max(downtime, Duration(0))};
  CheckTracks tracks;
  const json& checks = r.array("checks");
  for (size_t i = 0; i < checks.size() && error.empty(); ++i) {
    std::optional<CheckTrack> t =
        read_track(checks[i], "incident state.checks[" + std::to_string(i) + "]", rebase, &error);
    if (t && error.empty()) {
      std::string name = t->check;
      tracks[name] = std::move(*t);
    }
  }
  CorrelationGroups groups;
  if (r.has("correlations")) {
    const json& correlations = r.array("correlations");
    for (size_t i = 0; i < correlations.size() && error.empty(); ++i) {
      std::optional<CorrelationGroup> g =
          read_group(correlations[i], "incident state.correlations[" + std::to_string(i) + "]",
                     rebase, &error);
      if (g && error.empty()) {
        groups.push_back(std::move(*g));
      }
    }
  }
  if (!error.empty()) {
    return make_error(error);
  }
  return IncidentDocument{std::move(tracks), std::move(groups)};
}

}  // namespace vigil
