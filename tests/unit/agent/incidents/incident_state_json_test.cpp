#include "agent/incidents/incident_state_json.h"

#include <catch2/catch.hpp>

#include "tests/unit/agent/incidents/incident_harness.h"

namespace vigil {
namespace {

using test::Harness;
using test::kHour;
using test::kMinute;
using test::parse;

TEST_CASE("after a restart the downtime counts and the same incident escalates and resolves",
          "[incidents]") {
  Harness h;
  h.policy.escalate_after = {20 * kMinute};
  auto opened = h.eval("disk", CheckState::kCritical);
  std::string id = parse(opened[0])["incident_id"];
  h.clock.advance(10 * kMinute);
  std::string saved = h.manager.save();

  // Down for 5 minutes (by the wall clock). A new process's monotonic clock has
  // nothing to do with the old one's: only elapsed durations carry over.
  h.clock.advance(5 * kMinute);
  Harness after;
  after.policy = h.policy;
  for (const auto& [name, slot] : h.slots) {
    after.slots[name].state = slot.state;  // the saved check states
  }
  REQUIRE(after.manager.load(saved, 5 * kMinute).ok());
  CHECK(after.manager.open_incident_count() == 1);
  CHECK(after.manager.known_checks() == std::vector<std::string>{"disk"});
  // 15 minutes old: escalation is 5 minutes away, not 10.
  CHECK(after.manager.next_deadline() == after.clock.monotonic() + 5 * kMinute);
  CHECK(after.after(5 * kMinute - Duration(1)).empty());
  auto esc = after.after(Duration(1));
  REQUIRE(esc.size() == 1);
  CHECK(parse(esc[0])["action"] == "escalate");
  CHECK(parse(esc[0])["incident_id"] == id);
  CHECK(parse(esc[0])["opened_at"] == parse(opened[0])["opened_at"]);

  // Still critical after the restart: not reopened.
  CHECK(after.eval("disk", CheckState::kCritical).empty());
  auto r = after.eval("disk", CheckState::kOk);
  REQUIRE(r.size() == 1);
  CHECK(parse(r[0])["action"] == "resolve");
  CHECK(parse(r[0])["incident_id"] == id);
}

TEST_CASE("a downtime longer than every step escalates through each level at once", "[incidents]") {
  Harness h;
  h.policy.escalate_after = {15 * kMinute, kHour};
  h.eval("disk", CheckState::kCritical);
  std::string saved = h.manager.save();
  Harness after;
  REQUIRE(after.manager.load(saved, 2 * kHour).ok());
  auto r = after.manager.tick();
  REQUIRE(r.size() == 2);
  CHECK(parse(r[0])["escalation_level"] == 1);
  CHECK(parse(r[1])["escalation_level"] == 2);
}

TEST_CASE("save and load keep flapping, problems and pending resolves", "[incidents]") {
  Harness h;
  h.policy.resolve_after = 10 * kMinute;
  h.policy.flap_changes = 0;
  h.policy.problem_window = kHour;
  h.eval("api", CheckState::kOk);
  for (int i = 0; i < 3; ++i) {
    h.eval("api", CheckState::kCritical);
    h.eval("api", CheckState::kOk);
    h.after(10 * kMinute);
  }
  REQUIRE(h.manager.open_problem_count() == 1);
  h.eval("api", CheckState::kWarning);
  h.eval("api", CheckState::kOk);  // pending resolve
  h.clock.advance(4 * kMinute);
  std::string saved = h.manager.save();

  SECTION("a load without downtime saves the same document") {
    IncidentManager again(h.clock, "web1");
    REQUIRE(again.load(saved, Duration(0)).ok());
    CHECK(nlohmann::json::parse(again.save()) == nlohmann::json::parse(saved));
    // The snapshots differ only in their fresh record ids.
    auto without_id = [](const std::vector<std::string>& records) {
      std::vector<nlohmann::json> out;
      for (const std::string& r : records) {
        out.push_back(nlohmann::json::parse(r));
        out.back().erase("id");
      }
      return out;
    };
    REQUIRE(again.open_incidents_json().size() == 1);
    CHECK(without_id(again.open_incidents_json()) == without_id(h.manager.open_incidents_json()));
    CHECK(without_id(again.open_problems_json()) == without_id(h.manager.open_problems_json()));
  }
  SECTION("the pending resolve and the problem window count the downtime") {
    Harness after;
    REQUIRE(after.manager.load(saved, 5 * kMinute).ok());
    auto r = after.after(kMinute);  // 4 + 5 + 1 minutes of ok
    REQUIRE(r.size() == 1);
    CHECK(parse(r[0])["action"] == "resolve");
    // The problem's last incident opened 10 minutes before the pending resolve
    // finished: 50 more minutes, not 55, since the downtime counts.
    CHECK(after.after(50 * kMinute - Duration(1)).empty());
    auto p = after.after(Duration(1));
    REQUIRE(p.size() == 1);
    CHECK(parse(p[0])["kind"] == "problem");
    CHECK(parse(p[0])["action"] == "resolve");
  }
  SECTION("a negative downtime counts as none") {
    Harness after;
    REQUIRE(after.manager.load(saved, -kHour).ok());
    CHECK(after.after(6 * kMinute - Duration(1)).empty());
    CHECK(after.after(Duration(1)).size() == 1);
  }
}

TEST_CASE("a truncated or mistyped state document is an error and changes nothing", "[incidents]") {
  Harness h;
  h.eval("disk", CheckState::kCritical);
  std::string saved = h.manager.save();

  IncidentManager other(h.clock, "web1");
  REQUIRE(other.load(saved, Duration(0)).ok());
  std::string bad = GENERATE_COPY(saved.substr(0, saved.size() / 2), std::string(""),
                                  std::string("[]"), std::string("{\"version\": 1}"),
                                  std::string("{\"version\": 2, \"checks\": []}"),
                                  std::string("{\"version\": 1, \"checks\": [{\"check\": 5}]}"));
  CAPTURE(bad);
  Status s = other.load(bad, Duration(0));
  CHECK_FALSE(s.ok());
  CHECK_FALSE(s.error().empty());
  CHECK(other.open_incident_count() == 1);
}

TEST_CASE("every field of a saved incident is type-checked on load", "[incidents]") {
  Harness h;
  h.policy.problem_count = 1;
  h.eval("disk", CheckState::kCritical);
  nlohmann::json doc = nlohmann::json::parse(h.manager.save());
  nlohmann::json& track = doc["checks"][0];
  REQUIRE(track["incident"].is_object());
  REQUIRE(track["problem"].is_object());
  for (const char* part : {"incident", "problem", "policy"}) {
    for (auto& [field, value] : track[part].items()) {
      nlohmann::json broken = doc;
      broken["checks"][0][part][field] = value.is_string() ? nlohmann::json(7) : "x";
      CAPTURE(part, field);
      IncidentManager m(h.clock, "web1");
      CHECK_FALSE(m.load(broken.dump(), Duration(0)).ok());
    }
  }
}

}  // namespace
}  // namespace vigil
