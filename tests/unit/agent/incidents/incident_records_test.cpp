#include "agent/incidents/incident_records.h"

#include <catch2/catch.hpp>
#include <set>

#include "tests/unit/agent/incidents/incident_harness.h"

namespace vigil {
namespace {

using test::Harness;
using test::kHour;
using test::kMinute;
using test::parse;

const std::vector<std::string> kIncidentFields = {"kind",
                                                  "id",
                                                  "time",
                                                  "host",
                                                  "tags",
                                                  "incident_id",
                                                  "key",
                                                  "action",
                                                  "status",
                                                  "severity",
                                                  "opened_at",
                                                  "resolved_at",
                                                  "occurrences",
                                                  "escalation_level",
                                                  "flapping",
                                                  "check",
                                                  "summary",
                                                  "runbook",
                                                  "event_id",
                                                  "problem_id",
                                                  "problem_role",
                                                  "silenced",
                                                  "silence_ids",
                                                  "acknowledged_at",
                                                  "acknowledged_by",
                                                  "ack_comment"};

const std::vector<std::string> kProblemFields = {"kind",
                                                 "id",
                                                 "time",
                                                 "host",
                                                 "tags",
                                                 "problem_id",
                                                 "key",
                                                 "action",
                                                 "cause",
                                                 "incident_count",
                                                 "incident_ids",
                                                 "suspected_incident_id",
                                                 "suspected_check",
                                                 "first_seen",
                                                 "last_seen",
                                                 "summary"};

// In the order they were written: ordered_json keeps it.
std::vector<std::string> keys_of(const std::string& text) {
  std::vector<std::string> out;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  for (auto& [k, v] : j.items()) {
    out.push_back(k);
  }
  return out;
}

bool is_uuid_v7(const nlohmann::json& v) {
  if (!v.is_string()) {
    return false;
  }
  std::string s = v;
  return s.size() == 36 && s[8] == '-' && s[13] == '-' && s[14] == '7' && s[18] == '-' &&
         s[23] == '-';
}

TEST_CASE("every incident and problem record carries every field in order", "[incidents]") {
  Harness h;
  h.policy.escalate_after = {10 * kMinute};
  h.policy.renotify = 15 * kMinute;
  h.policy.problem_count = 2;
  h.policy.flap_changes = 0;
  std::vector<Record> all;
  auto keep = [&all](std::vector<Record> rs) { all.insert(all.end(), rs.begin(), rs.end()); };

  keep(h.eval("disk", CheckState::kCritical));  // open
  keep(h.eval("disk", CheckState::kWarning));   // update
  keep(h.after(10 * kMinute));                  // escalate
  keep(h.after(15 * kMinute));                  // renotify
  keep(h.eval("disk", CheckState::kOk));        // resolve
  keep(h.eval("disk", CheckState::kCritical));  // open, problem open
  keep(h.eval("disk", CheckState::kOk));        // resolve
  keep(h.eval("disk", CheckState::kCritical));  // open, problem update
  keep(h.manager.remove_check("disk"));         // resolve by removal
  keep(h.after(24 * kHour));                    // problem resolve

  std::set<std::string> incident_actions, problem_actions;
  for (const Record& r : all) {
    auto j = parse(r);
    CAPTURE(r.json);
    CHECK(r.id == j["id"]);
    CHECK(is_uuid_v7(j["id"]));
    CHECK(j["tags"] == nlohmann::json({{"team", "ops"}, {"env", "prod"}}));
    SystemTime t;
    CHECK(parse_rfc3339(j["time"], &t));
    if (r.kind == RecordKind::kIncident) {
      CHECK(keys_of(r.json) == kIncidentFields);
      CHECK(is_uuid_v7(j["incident_id"]));
      CHECK(j["flapping"].is_boolean());
      CHECK(j["occurrences"].is_number_unsigned());
      CHECK(j["escalation_level"].is_number_integer());
      CHECK(r.resolved == (j["status"] == "resolved"));
      CHECK(j["resolved_at"].is_null() == !r.resolved);
      CHECK((j["event_id"].is_null() || is_uuid_v7(j["event_id"])));
      incident_actions.insert(j["action"].get<std::string>());
    } else {
      REQUIRE(r.kind == RecordKind::kProblem);
      CHECK(keys_of(r.json) == kProblemFields);
      CHECK(is_uuid_v7(j["problem_id"]));
      CHECK(j["incident_ids"].is_array());
      CHECK(j["incident_count"] == j["incident_ids"].size());
      problem_actions.insert(j["action"].get<std::string>());
    }
  }
  CHECK(incident_actions ==
        std::set<std::string>{"open", "update", "escalate", "renotify", "resolve"});
  CHECK(problem_actions == std::set<std::string>{"open", "update", "resolve"});
}

TEST_CASE("an empty runbook is null", "[incidents]") {
  CheckTrack t;
  t.check = "disk";
  OpenIncident inc;
  inc.incident_id = "0190a1b2-0000-7000-8000-000000000000";
  std::string host = "web1";
  Record r = make_incident_record(RecordContext{host, SystemTime{}}, t, inc, "open", false, "", {});
  auto j = parse(r);
  CHECK(j["runbook"].is_null());
  CHECK(j["event_id"].is_null());
  CHECK(j["tags"] == nlohmann::json::object());
}

TEST_CASE("durations in summaries use the largest exact unit", "[incidents]") {
  CHECK(format_duration(Duration(0)) == "0");
  CHECK(format_duration(kHour * 24) == "1d");
  CHECK(format_duration(kMinute * 90) == "90m");
  CHECK(format_duration(Duration(1500)) == "1500ms");
  CHECK(format_duration(Duration(45000)) == "45s");
}

}  // namespace
}  // namespace vigil
