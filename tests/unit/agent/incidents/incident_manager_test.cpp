#include "agent/incidents/incident_manager.h"

#include <catch2/catch.hpp>

#include "tests/unit/agent/incidents/incident_harness.h"

namespace vigil {
namespace {

using test::Harness;
using test::kHour;
using test::kMinute;
using test::parse;

constexpr CheckState kOk = CheckState::kOk;
constexpr CheckState kWarning = CheckState::kWarning;
constexpr CheckState kCritical = CheckState::kCritical;

// A clock whose wall time moves a millisecond at every reading, as a busy host's
// may between two readings of one evaluation.
class TickingClock final : public Clock {
 public:
  MonotonicTime monotonic() const override { return mono_; }
  SystemTime wall() const override { return wall_ += Duration(1); }

 private:
  MonotonicTime mono_{std::chrono::hours(1000)};
  mutable SystemTime wall_{std::chrono::seconds(1795000000)};
};

TEST_CASE("an open record's time is its opened_at even when the clock moves meanwhile",
          "[incidents]") {
  TickingClock clock;
  std::string host = "web1";
  IncidentManager manager(clock, host);
  CheckChange change;
  change.check = "disk";
  change.plugin = "disk";
  change.state = kCritical;
  change.changed = true;
  change.first = true;
  std::vector<Record> records = manager.on_evaluation(change);
  REQUIRE(records.size() == 1);
  auto open = parse(records[0]);
  CHECK(open["action"] == "open");
  CHECK(open["opened_at"] == open["time"]);
}

TEST_CASE("a failing check opens at its first evaluation, updates on severity and resolves",
          "[incidents]") {
  Harness h;
  auto opened = h.eval("disk", kCritical);
  REQUIRE(opened.size() == 1);
  auto open = parse(opened[0]);
  CHECK(open["kind"] == "incident");
  CHECK(open["action"] == "open");
  CHECK(open["status"] == "open");
  CHECK(open["severity"] == "critical");
  CHECK(open["key"] == "web1/disk");
  CHECK(open["check"] == "disk");
  CHECK(open["host"] == "web1");
  CHECK(open["tags"]["team"] == "ops");
  CHECK(open["occurrences"] == 1);
  CHECK(open["escalation_level"] == 0);
  CHECK(open["flapping"] == false);
  CHECK(open["resolved_at"].is_null());
  CHECK(open["event_id"] == h.last_event_id);
  CHECK(open["summary"] == "check disk is critical");
  CHECK(open["runbook"] == "https://runbooks.example/disk");
  CHECK(open["opened_at"] == open["time"]);
  CHECK(opened[0].key == "web1/disk");
  CHECK(opened[0].severity == kCritical);
  CHECK_FALSE(opened[0].resolved);
  CHECK(h.manager.open_incident_count() == 1);

  h.clock.advance(kMinute);
  auto updated = h.eval("disk", kWarning);
  REQUIRE(updated.size() == 1);
  auto update = parse(updated[0]);
  CHECK(update["action"] == "update");
  CHECK(update["severity"] == "warning");
  CHECK(update["occurrences"] == 2);
  CHECK(update["incident_id"] == open["incident_id"]);
  CHECK(update["opened_at"] == open["opened_at"]);
  CHECK(updated[0].severity == kWarning);

  h.clock.advance(kMinute);
  auto resolved = h.eval("disk", kOk);
  REQUIRE(resolved.size() == 1);
  auto resolve = parse(resolved[0]);
  CHECK(resolve["action"] == "resolve");
  CHECK(resolve["status"] == "resolved");
  CHECK(resolve["severity"] == "warning");
  CHECK(resolve["resolved_at"] == resolve["time"]);
  CHECK(resolve["occurrences"] == 2);
  CHECK(resolve["incident_id"] == open["incident_id"]);
  CHECK(resolve["event_id"] == h.last_event_id);
  CHECK(resolve["summary"] == "check disk is ok");
  CHECK(resolved[0].resolved);
  CHECK(h.manager.open_incident_count() == 0);
}

TEST_CASE("an ok check at its first evaluation opens nothing", "[incidents]") {
  Harness h;
  CHECK(h.eval("cpu", kOk).empty());
  CHECK(h.after(kHour).empty());
  CHECK(h.manager.open_incident_count() == 0);
  CHECK_FALSE(h.manager.next_deadline().has_value());
}

TEST_CASE("an open key never gets a second open", "[incidents]") {
  Harness h;
  h.eval("disk", kOk);
  auto first = h.eval("disk", kWarning);
  REQUIRE(first.size() == 1);
  CHECK(parse(first[0])["action"] == "open");
  // Unchanged evaluations are no events: nothing folds in, nothing is sent.
  for (int i = 0; i < 5; ++i) {
    h.clock.advance(kMinute);
    CHECK(h.eval("disk", kWarning).empty());
  }
  auto up = h.eval("disk", CheckState::kUnknown);
  REQUIRE(up.size() == 1);
  CHECK(parse(up[0])["action"] == "update");
  CHECK(parse(up[0])["severity"] == "unknown");
  auto back = h.eval("disk", kWarning);
  REQUIRE(back.size() == 1);
  CHECK(parse(back[0])["action"] == "update");
  CHECK(parse(back[0])["occurrences"] == 3);
  CHECK(parse(back[0])["incident_id"] == parse(first[0])["incident_id"]);
  CHECK(h.manager.open_incident_count() == 1);
}

TEST_CASE("resolve_after needs continuous ok and a relapse continues the incident", "[incidents]") {
  Harness h;
  h.policy.resolve_after = 5 * kMinute;
  auto opened = h.eval("disk", kCritical);
  std::string id = parse(opened[0])["incident_id"];

  SECTION("without relapse it resolves once resolve_after has passed") {
    CHECK(h.eval("disk", kOk).empty());
    CHECK(h.manager.next_deadline() == h.clock.monotonic() + 5 * kMinute);
    CHECK(h.after(5 * kMinute - Duration(1)).empty());
    auto r = h.after(Duration(1));
    REQUIRE(r.size() == 1);
    CHECK(parse(r[0])["action"] == "resolve");
    CHECK(parse(r[0])["event_id"].is_null());
    CHECK(parse(r[0])["incident_id"] == id);
  }
  SECTION("a relapse of the same severity sends nothing and restarts the wait") {
    CHECK(h.eval("disk", kOk).empty());
    h.clock.advance(4 * kMinute);
    CHECK(h.eval("disk", kCritical).empty());
    CHECK(h.eval("disk", kOk).empty());
    CHECK(h.after(4 * kMinute).empty());
    auto r = h.after(kMinute);
    REQUIRE(r.size() == 1);
    CHECK(parse(r[0])["action"] == "resolve");
    CHECK(parse(r[0])["incident_id"] == id);
    CHECK(parse(r[0])["occurrences"] == 2);
  }
  SECTION("a relapse of another severity is an update of the same incident") {
    CHECK(h.eval("disk", kOk).empty());
    h.clock.advance(kMinute);
    auto r = h.eval("disk", kWarning);
    REQUIRE(r.size() == 1);
    CHECK(parse(r[0])["action"] == "update");
    CHECK(parse(r[0])["incident_id"] == id);
    CHECK(parse(r[0])["severity"] == "warning");
  }
}

TEST_CASE("escalation reaches each step from the opening and no level beyond the list",
          "[incidents]") {
  Harness h;
  h.policy.escalate_after = {15 * kMinute, kHour};
  auto opened = h.eval("disk", kCritical);
  std::string id = parse(opened[0])["incident_id"];
  CHECK(h.manager.next_deadline() == h.clock.monotonic() + 15 * kMinute);

  CHECK(h.after(15 * kMinute - Duration(1)).empty());
  auto first = h.after(Duration(1));
  REQUIRE(first.size() == 1);
  CHECK(parse(first[0])["action"] == "escalate");
  CHECK(parse(first[0])["escalation_level"] == 1);
  CHECK(parse(first[0])["event_id"].is_null());
  CHECK(parse(first[0])["incident_id"] == id);
  CHECK(first[0].escalation_level == 1);

  // A severity change meanwhile carries the current level.
  auto up = h.eval("disk", kWarning);
  REQUIRE(up.size() == 1);
  CHECK(parse(up[0])["escalation_level"] == 1);

  CHECK(h.after(45 * kMinute - Duration(1)).empty());
  auto second = h.after(Duration(1));
  REQUIRE(second.size() == 1);
  CHECK(parse(second[0])["escalation_level"] == 2);

  CHECK_FALSE(h.manager.next_deadline().has_value());
  CHECK(h.after(24 * kHour).empty());
  auto r = h.eval("disk", kOk);
  REQUIRE(r.size() == 1);
  CHECK(parse(r[0])["escalation_level"] == 2);
}

TEST_CASE("renotify is measured from the last record of the incident", "[incidents]") {
  Harness h;
  h.policy.renotify = 30 * kMinute;
  h.policy.escalate_after = {20 * kMinute};
  h.eval("disk", kCritical);
  CHECK(h.after(20 * kMinute).size() == 1);  // the escalation
  // 30 minutes from the opening have passed, but only 10 from the escalation.
  CHECK(h.after(10 * kMinute).empty());
  CHECK(h.after(20 * kMinute - Duration(1)).empty());
  auto first = h.after(Duration(1));
  REQUIRE(first.size() == 1);
  CHECK(parse(first[0])["action"] == "renotify");
  CHECK(parse(first[0])["event_id"].is_null());
  CHECK(parse(first[0])["escalation_level"] == 1);

  h.clock.advance(10 * kMinute);
  REQUIRE(h.eval("disk", kWarning).size() == 1);  // an update restarts the wait too
  CHECK(h.after(30 * kMinute - Duration(1)).empty());
  auto second = h.after(Duration(1));
  REQUIRE(second.size() == 1);
  CHECK(parse(second[0])["action"] == "renotify");
  CHECK(parse(second[0])["severity"] == "warning");
}

TEST_CASE("three fire and recover cycles within the window make the third incident flap",
          "[incidents]") {
  Harness h;  // defaults: 5 changes in 10m
  h.eval("api", kOk);
  std::vector<std::string> opens;
  for (int cycle = 1; cycle <= 3; ++cycle) {
    h.clock.advance(kMinute);
    auto fired = test::only(h.eval("api", kCritical), RecordKind::kIncident);
    REQUIRE(fired.size() == 1);
    auto open = parse(fired[0]);
    CHECK(open["action"] == "open");
    CHECK(open["flapping"] == (cycle == 3));
    opens.push_back(open["incident_id"]);
    if (cycle < 3) {
      h.clock.advance(kMinute);
      auto rec = h.eval("api", kOk);
      REQUIRE(rec.size() == 1);
      CHECK(parse(rec[0])["action"] == "resolve");
    }
  }
  CHECK(opens[0] != opens[1]);
  CHECK(opens[1] != opens[2]);
}

TEST_CASE("a flapping incident stays open and ends flapping by its resolve when ok",
          "[incidents]") {
  Harness h;
  h.policy.flap_changes = 3;
  h.policy.flap_window = 10 * kMinute;
  h.eval("api", kOk);
  h.eval("api", kCritical);  // change 1: opens
  h.clock.advance(kMinute);
  h.eval("api", kOk);  // change 2: resolves
  h.clock.advance(kMinute);
  auto third = h.eval("api", kCritical);  // change 3: opens, flapping
  REQUIRE(third.size() == 1);
  CHECK(parse(third[0])["flapping"] == true);
  std::string id = parse(third[0])["incident_id"];

  // Returns to ok do not resolve, relapses do not reopen, severity changes are silent.
  h.clock.advance(kMinute);
  CHECK(h.eval("api", kOk).empty());
  h.clock.advance(kMinute);
  CHECK(h.eval("api", kWarning).empty());
  h.clock.advance(kMinute);
  CHECK(h.eval("api", kOk).empty());
  CHECK(h.manager.open_incident_count() == 1);

  SECTION("resolve_after 0: the resolve comes when the window has passed without change") {
    CHECK(h.manager.next_deadline() == h.clock.monotonic() + 10 * kMinute);
    CHECK(h.after(10 * kMinute - Duration(1)).empty());
    auto r = h.after(Duration(1));
    REQUIRE(r.size() == 1);
    auto resolve = parse(r[0]);
    CHECK(resolve["action"] == "resolve");
    CHECK(resolve["flapping"] == false);
    CHECK(resolve["incident_id"] == id);
    CHECK(resolve["occurrences"] == 2);
    CHECK(resolve["severity"] == "warning");
  }
  SECTION("resolve_after longer than the window still applies") {
    h.policy.resolve_after = 15 * kMinute;
    CHECK(h.eval("api", kOk).empty());  // the evaluator passes the new policy along
    CHECK(h.after(10 * kMinute).empty());
    CHECK(h.after(5 * kMinute - Duration(1)).empty());
    auto r = h.after(Duration(1));
    REQUIRE(r.size() == 1);
    CHECK(parse(r[0])["action"] == "resolve");
    CHECK(parse(r[0])["flapping"] == false);
  }
}

TEST_CASE("flapping ends by an update when the check is failing then", "[incidents]") {
  Harness h;
  h.policy.flap_changes = 3;
  h.eval("api", kCritical);               // the first evaluation does not count
  h.eval("api", kOk);                     // 1
  h.eval("api", kCritical);               // 2
  auto change = h.eval("api", kWarning);  // 3: an update marks it flapping
  REQUIRE(change.size() == 1);
  CHECK(parse(change[0])["action"] == "update");
  CHECK(parse(change[0])["flapping"] == true);
  CHECK(parse(change[0])["severity"] == "warning");

  h.clock.advance(5 * kMinute);
  CHECK(h.eval("api", kCritical).empty());  // still flapping: the window restarts
  CHECK(h.after(10 * kMinute - Duration(1)).empty());
  auto end = h.after(Duration(1));
  REQUIRE(end.size() == 1);
  auto update = parse(end[0]);
  CHECK(update["action"] == "update");
  CHECK(update["flapping"] == false);
  CHECK(update["event_id"].is_null());
  CHECK(update["severity"] == "critical");
  CHECK(h.manager.open_incident_count() == 1);
  // Not flapping any more: a return to ok resolves at once again.
  auto r = h.eval("api", kOk);
  REQUIRE(r.size() == 1);
  CHECK(parse(r[0])["action"] == "resolve");
}

TEST_CASE("escalation and renotify run while an incident flaps", "[incidents]") {
  Harness h;
  h.policy.flap_changes = 2;
  h.policy.flap_window = kHour;
  h.policy.escalate_after = {10 * kMinute};
  h.policy.renotify = 15 * kMinute;
  h.eval("api", kOk);
  h.eval("api", kCritical);
  REQUIRE(h.eval("api", kOk).size() == 1);  // flapping starts on this update
  auto esc = h.after(10 * kMinute);
  REQUIRE(esc.size() == 1);
  CHECK(parse(esc[0])["action"] == "escalate");
  CHECK(parse(esc[0])["flapping"] == true);
  auto re = h.after(15 * kMinute);
  REQUIRE(re.size() == 1);
  CHECK(parse(re[0])["action"] == "renotify");
}

TEST_CASE("each check keeps its own incident policy", "[incidents]") {
  Harness h;
  h.policies["fast"].escalate_after = {5 * kMinute};
  h.policies["slow"].escalate_after = {kHour};
  h.policies["slow"].resolve_after = 10 * kMinute;
  h.eval("fast", kCritical);
  h.eval("slow", kCritical);
  auto at5 = h.after(5 * kMinute);
  REQUIRE(at5.size() == 1);
  CHECK(at5[0].key == "web1/fast");
  CHECK(h.eval("fast", kOk).size() == 1);  // resolve_after 0 for fast
  CHECK(h.eval("slow", kOk).empty());      // slow waits 10 minutes
  // fast and slow opened together: their correlation problem ends with slow.
  auto at15 = h.after(10 * kMinute);
  REQUIRE(at15.size() == 2);
  CHECK(at15[0].key == "web1/slow");
  CHECK(parse(at15[0])["action"] == "resolve");
  CHECK(at15[1].kind == RecordKind::kProblem);
  CHECK(parse(at15[1])["action"] == "resolve");

  // The latest policy of a check wins.
  h.eval("fast", kCritical);
  h.policies["fast"].escalate_after = {30 * kMinute};
  h.eval("fast", kCritical);
  CHECK(h.after(29 * kMinute).empty());
  CHECK(h.after(kMinute).size() == 1);
}

TEST_CASE("a wall-clock jump escalates, renotifies and resolves nothing", "[incidents]") {
  Harness h;
  h.policy.escalate_after = {15 * kMinute};
  h.policy.renotify = 10 * kMinute;
  h.policy.resolve_after = 5 * kMinute;
  h.policy.problem_count = 1;
  h.policy.problem_window = kMinute;
  auto opened = h.eval("disk", kCritical);
  REQUIRE(opened.size() == 2);  // the incident and its one-incident problem
  h.eval("disk", kOk);
  auto deadline = h.manager.next_deadline();
  for (Duration jump : {24 * kHour, -48 * kHour, 365 * 24 * kHour}) {
    h.clock.jump_wall(jump);
    CHECK(h.manager.tick().empty());
    CHECK(h.manager.next_deadline() == deadline);
  }
  CHECK(h.manager.open_incident_count() == 1);
  CHECK(h.manager.open_problem_count() == 1);
  // Times in records follow the wall clock, durations do not.
  auto r = h.after(kMinute);
  REQUIRE(r.size() == 1);
  CHECK(r[0].kind == RecordKind::kProblem);
  CHECK(parse(r[0])["action"] == "resolve");
}

TEST_CASE("log check occurrences count the matching lines read while open", "[incidents]") {
  Harness h;
  auto opened = h.eval("auth", kWarning, 3, true);
  REQUIRE(opened.size() == 1);
  CHECK(parse(opened[0])["occurrences"] == 3);
  // Growth alone sends no record.
  CHECK(h.eval("auth", kWarning, 2, true).empty());
  auto up = h.eval("auth", kCritical, 4, true);
  REQUIRE(up.size() == 1);
  CHECK(parse(up[0])["occurrences"] == 9);
  auto r = h.eval("auth", kOk, 0, true);
  REQUIRE(r.size() == 1);
  CHECK(parse(r[0])["occurrences"] == 9);
  // A new incident counts afresh.
  auto again = h.eval("auth", kWarning, 1, true);
  REQUIRE(again.size() == 1);
  CHECK(parse(again[0])["occurrences"] == 1);
}

TEST_CASE("removing a check resolves its open incident with a summary saying so", "[incidents]") {
  Harness h;
  auto opened = h.eval("disk", kCritical);
  h.eval("cpu", kOk);
  CHECK(h.manager.known_checks() == std::vector<std::string>{"cpu", "disk"});
  auto r = h.manager.remove_check("disk");
  REQUIRE(r.size() == 1);
  auto resolve = parse(r[0]);
  CHECK(resolve["action"] == "resolve");
  CHECK(resolve["status"] == "resolved");
  CHECK(resolve["summary"] == "check disk was removed from the configuration");
  CHECK(resolve["event_id"].is_null());
  CHECK(resolve["incident_id"] == parse(opened[0])["incident_id"]);
  CHECK(h.manager.open_incident_count() == 0);
  CHECK(h.manager.known_checks() == std::vector<std::string>{"cpu"});
  CHECK(h.manager.remove_check("disk").empty());
  CHECK(h.manager.remove_check("never-seen").empty());
}

TEST_CASE("open incidents are listed as current records", "[incidents]") {
  Harness h;
  h.eval("disk", kCritical);
  h.eval("cpu", kWarning);
  h.eval("mem", kOk);
  h.eval("disk", kWarning);
  auto open = h.manager.open_incidents_json();
  REQUIRE(open.size() == 2);
  auto disk = nlohmann::json::parse(open[1]);
  CHECK(disk["check"] == "disk");
  CHECK(disk["action"] == "update");
  CHECK(disk["severity"] == "warning");
  CHECK(disk["status"] == "open");
  CHECK(disk["occurrences"] == 2);
}

}  // namespace
}  // namespace vigil
