#include "agent/incidents/problem_tracker.h"

#include <catch2/catch.hpp>

#include "tests/unit/agent/incidents/incident_harness.h"

namespace vigil {
namespace {

using test::Harness;
using test::kHour;
using test::kMinute;
using test::only;
using test::parse;

// One fire/recover cycle; returns the incident id it opened and the problem
// records it caused.
std::pair<std::string, std::vector<Record>> cycle(Harness& h, const std::string& check) {
  auto fired = h.eval(check, CheckState::kCritical);
  auto incidents = only(fired, RecordKind::kIncident);
  REQUIRE(incidents.size() == 1);
  REQUIRE(parse(incidents[0])["action"] == "open");
  h.clock.advance(kMinute);
  REQUIRE(h.eval(check, CheckState::kOk).size() == 1);
  h.clock.advance(kMinute);
  return {parse(incidents[0])["incident_id"], only(fired, RecordKind::kProblem)};
}

TEST_CASE("recurring incidents of one key open, update and resolve a problem", "[incidents]") {
  Harness h;
  h.policy.flap_changes = 0;  // flapping would keep the third incident open
  h.policy.problem_window = kHour;
  h.eval("api", CheckState::kOk);

  auto [id1, p1] = cycle(h, "api");
  auto [id2, p2] = cycle(h, "api");
  CHECK(p1.empty());
  CHECK(p2.empty());
  auto [id3, p3] = cycle(h, "api");
  REQUIRE(p3.size() == 1);
  auto open = parse(p3[0]);
  CHECK(open["kind"] == "problem");
  CHECK(open["action"] == "open");
  CHECK(open["key"] == "web1/api");
  CHECK(open["incident_count"] == 3);
  CHECK(open["incident_ids"] == nlohmann::json::array({id1, id2, id3}));
  CHECK(open["first_seen"] != open["last_seen"]);
  CHECK(p3[0].key == "web1/api");
  CHECK(h.manager.open_problem_count() == 1);
  REQUIRE(h.manager.open_problems_json().size() == 1);
  CHECK(nlohmann::json::parse(h.manager.open_problems_json()[0])["problem_id"] ==
        open["problem_id"]);

  h.clock.advance(30 * kMinute);
  auto [id4, p4] = cycle(h, "api");
  REQUIRE(p4.size() == 1);
  auto update = parse(p4[0]);
  CHECK(update["action"] == "update");
  CHECK(update["problem_id"] == open["problem_id"]);
  CHECK(update["incident_count"] == 4);
  CHECK(update["incident_ids"].back() == id4);
  CHECK(update["first_seen"] == open["first_seen"]);

  // The fourth incident opened 2 minutes ago: the problem resolves one quiet
  // problem_window after it.
  CHECK(h.after(kHour - 2 * kMinute - Duration(1)).empty());
  auto resolved = h.after(Duration(1));
  REQUIRE(resolved.size() == 1);
  auto resolve = parse(resolved[0]);
  CHECK(resolve["action"] == "resolve");
  CHECK(resolve["problem_id"] == open["problem_id"]);
  CHECK(resolve["incident_count"] == 4);
  CHECK(resolved[0].resolved);
  CHECK(h.manager.open_problem_count() == 0);

  // Counting starts afresh: one more incident is not a problem.
  auto [id5, p5] = cycle(h, "api");
  CHECK(p5.empty());
}

TEST_CASE("incidents further apart than problem_window open no problem", "[incidents]") {
  Harness h;
  h.policy.flap_changes = 0;
  h.policy.problem_window = kHour;
  for (int i = 0; i < 5; ++i) {
    auto [id, problems] = cycle(h, "api");
    CHECK(problems.empty());
    h.clock.advance(30 * kMinute);
  }
  CHECK(h.manager.open_problem_count() == 0);
}

TEST_CASE("problems are counted per key", "[incidents]") {
  Harness h;
  h.policy.flap_changes = 0;
  for (int i = 0; i < 2; ++i) {
    CHECK(cycle(h, "a").second.empty());
    CHECK(cycle(h, "b").second.empty());
  }
  CHECK(cycle(h, "a").second.size() == 1);
  CHECK(h.manager.open_problem_count() == 1);
}

TEST_CASE("the flapping third incident of the defaults also opens a problem", "[incidents]") {
  Harness h;
  h.eval("api", CheckState::kOk);
  cycle(h, "api");
  cycle(h, "api");
  auto third = h.eval("api", CheckState::kCritical);
  REQUIRE(third.size() == 2);
  CHECK(third[0].kind == RecordKind::kIncident);
  CHECK(parse(third[0])["flapping"] == true);
  CHECK(third[1].kind == RecordKind::kProblem);
  CHECK(parse(third[1])["incident_ids"].size() == 3);
}

}  // namespace
}  // namespace vigil
