#include "agent/incidents/correlation.h"

#include <catch2/catch.hpp>

#include "tests/unit/agent/incidents/incident_harness.h"

namespace vigil {
namespace {

using test::Harness;
using test::kMinute;
using test::only;
using test::parse;

constexpr CheckState kOk = CheckState::kOk;
constexpr CheckState kCritical = CheckState::kCritical;
constexpr Duration kSecond{1000};

// The one incident record of an evaluation that opened an incident.
nlohmann::json opened(const std::vector<Record>& rs) {
  auto inc = only(rs, RecordKind::kIncident);
  REQUIRE(inc.size() == 1);
  auto j = parse(inc[0]);
  REQUIRE(j["action"] == "open");
  return j;
}

std::vector<nlohmann::json> problems(const std::vector<Record>& rs) {
  return test::parse_all(only(rs, RecordKind::kProblem));
}

// The open incident of `check` as /status shows it.
nlohmann::json open_incident(const Harness& h, const std::string& check) {
  for (const std::string& s : h.manager.open_incidents_json()) {
    auto j = nlohmann::json::parse(s);
    if (j["check"] == check) {
      return j;
    }
  }
  FAIL("no open incident of " << check);
  return {};
}

TEST_CASE("a cascade of three checks is one problem, the first as suspected cause", "[incidents]") {
  Harness h;  // correlate_window 2m by default
  auto disk_open = h.eval("disk", kCritical);
  auto disk = opened(disk_open);
  CHECK(disk["problem_id"].is_null());
  CHECK(disk["problem_role"].is_null());
  CHECK(problems(disk_open).empty());
  CHECK(h.manager.open_problem_count() == 0);

  h.clock.advance(38 * kSecond);
  auto log_open = h.eval("log", kCritical);
  auto log = opened(log_open);
  auto p1 = problems(log_open);
  REQUIRE(p1.size() == 1);
  CHECK(p1[0]["action"] == "open");
  CHECK(p1[0]["cause"] == "correlation");
  CHECK(p1[0]["key"] == "web1/correlation/disk");
  CHECK(p1[0]["problem_id"] == disk["incident_id"]);
  CHECK(p1[0]["suspected_incident_id"] == disk["incident_id"]);
  CHECK(p1[0]["suspected_check"] == "disk");
  CHECK(p1[0]["incident_count"] == 2);
  CHECK(p1[0]["incident_ids"] == nlohmann::json::array({disk["incident_id"], log["incident_id"]}));
  CHECK(p1[0]["first_seen"] == disk["opened_at"]);
  CHECK(p1[0]["last_seen"] == log["opened_at"]);
  CHECK(p1[0]["tags"]["team"] == "ops");
  // The joining incident names its problem from its opening.
  CHECK(log["problem_id"] == p1[0]["problem_id"]);
  CHECK(log["problem_role"] == "symptom");
  CHECK(open_incident(h, "disk")["problem_id"] == p1[0]["problem_id"]);
  CHECK(open_incident(h, "disk")["problem_role"] == "cause");
  // The incident record comes first, then the problem.
  CHECK(log_open[0].kind == RecordKind::kIncident);

  h.clock.advance(30 * kSecond);
  auto proc_open = h.eval("process", kCritical);
  auto proc = opened(proc_open);
  auto p2 = problems(proc_open);
  REQUIRE(p2.size() == 1);
  CHECK(p2[0]["action"] == "update");
  CHECK(p2[0]["problem_id"] == p1[0]["problem_id"]);
  CHECK(p2[0]["key"] == "web1/correlation/disk");
  CHECK(p2[0]["incident_count"] == 3);
  CHECK(p2[0]["incident_ids"] ==
        nlohmann::json::array({disk["incident_id"], log["incident_id"], proc["incident_id"]}));
  CHECK(p2[0]["summary"] ==
        "disk critical at 11:06:40Z suspected first cause; log +38 s, process +68 s opened "
        "within 2m");
  CHECK(proc["problem_role"] == "symptom");
  CHECK(h.manager.open_problem_count() == 1);
  REQUIRE(h.manager.open_problems_json().size() == 1);
  auto listed = nlohmann::json::parse(h.manager.open_problems_json()[0]);
  CHECK(listed["cause"] == "correlation");
  CHECK(listed["suspected_check"] == "disk");
  CHECK(listed["action"] == "update");

  SECTION("it resolves when its last member resolves") {
    h.clock.advance(kMinute);
    auto r1 = h.eval("disk", kOk);
    CHECK(problems(r1).empty());
    CHECK(parse(only(r1, RecordKind::kIncident)[0])["problem_id"] == p1[0]["problem_id"]);
    CHECK(problems(h.eval("process", kOk)).empty());
    CHECK(h.manager.open_problem_count() == 1);
    auto last = h.eval("log", kOk);
    REQUIRE(last.size() == 2);
    CHECK(parse(last[0])["action"] == "resolve");
    CHECK(parse(last[0])["problem_id"] == p1[0]["problem_id"]);
    auto resolved = parse(last[1]);
    CHECK(resolved["kind"] == "problem");
    CHECK(resolved["action"] == "resolve");
    CHECK(resolved["problem_id"] == p1[0]["problem_id"]);
    CHECK(resolved["incident_count"] == 3);
    CHECK(resolved["suspected_check"] == "disk");
    CHECK(resolved["summary"] == "all 3 incidents resolved; suspected cause was disk");
    CHECK(last[1].resolved);
    CHECK(h.manager.open_problem_count() == 0);
    CHECK(h.manager.open_problems_json().empty());
  }
  SECTION("a check removed from the configuration resolves its member") {
    h.manager.remove_check("disk");
    h.manager.remove_check("log");
    auto last = h.manager.remove_check("process");
    REQUIRE(last.size() == 2);
    CHECK(parse(last[1])["action"] == "resolve");
    CHECK(h.manager.open_problem_count() == 0);
  }
}

TEST_CASE("the window is anchored at the group's first opening", "[incidents]") {
  Harness h;
  auto disk = opened(h.eval("disk", kCritical));
  h.clock.advance(119 * kSecond);
  auto joined = h.eval("log", kCritical);
  REQUIRE(problems(joined).size() == 1);
  CHECK(problems(joined)[0]["action"] == "open");

  // +121 s from the first opening: past the window, though 2 s after the last join.
  h.clock.advance(2 * kSecond);
  auto late = h.eval("process", kCritical);
  auto proc = opened(late);
  CHECK(problems(late).empty());
  CHECK(proc["problem_id"].is_null());
  CHECK(h.manager.open_problem_count() == 1);

  // process started a group of its own: the next opening joins that one.
  h.clock.advance(5 * kSecond);
  auto next = problems(h.eval("cpu", kCritical));
  REQUIRE(next.size() == 1);
  CHECK(next[0]["action"] == "open");
  CHECK(next[0]["suspected_check"] == "process");
  CHECK(next[0]["problem_id"] == proc["incident_id"]);
  CHECK(next[0]["incident_count"] == 2);
  CHECK(h.manager.open_problem_count() == 2);
  (void)disk;
}

TEST_CASE("a group with no open incident takes no member", "[incidents]") {
  Harness h;
  h.eval("disk", kCritical);
  h.clock.advance(10 * kSecond);
  h.eval("disk", kOk);
  h.clock.advance(10 * kSecond);
  auto log = h.eval("log", kCritical);
  CHECK(problems(log).empty());
  CHECK(opened(log)["problem_id"].is_null());
}

TEST_CASE("correlate_window 0 turns correlation off; recurrence is unchanged", "[incidents]") {
  Harness h;
  h.policy.correlate_window = Duration(0);
  h.policy.problem_count = 2;
  h.policy.flap_changes = 0;
  std::vector<Record> all;
  for (int i = 0; i < 2; ++i) {
    for (const char* check : {"disk", "log", "process"}) {
      auto rs = h.eval(check, kCritical);
      all.insert(all.end(), rs.begin(), rs.end());
      h.clock.advance(kSecond);
    }
    for (const char* check : {"disk", "log", "process"}) {
      auto rs = h.eval(check, kOk);
      all.insert(all.end(), rs.begin(), rs.end());
    }
  }
  auto ps = problems(all);
  REQUIRE(ps.size() == 3);  // one recurrence problem per check
  for (const auto& p : ps) {
    CHECK(p["cause"] == "recurrence");
    CHECK(p["suspected_incident_id"].is_null());
    CHECK(p["suspected_check"].is_null());
    CHECK(p["incident_count"] == 2);
  }
  CHECK(ps[0]["key"] == "web1/disk");
  for (const Record& r : only(all, RecordKind::kIncident)) {
    CHECK(parse(r)["problem_id"].is_null());
  }

  SECTION("per check: a check with 0 neither starts nor joins a group") {
    Harness g;
    g.policies["log"] = g.policy;
    g.policies["log"].correlate_window = Duration(0);
    g.eval("disk", kCritical);
    g.clock.advance(kSecond);
    CHECK(problems(g.eval("log", kCritical)).empty());
    g.clock.advance(kSecond);
    CHECK(problems(g.eval("process", kCritical)).size() == 1);
  }
}

TEST_CASE("a declared dependency outranks time order", "[incidents]") {
  Harness h;
  h.depends_on["process"] = {"data"};
  auto proc = opened(h.eval("process", kCritical));
  h.clock.advance(5 * kSecond);
  auto data_open = h.eval("data", kCritical);
  auto data = opened(data_open);
  auto p = problems(data_open);
  REQUIRE(p.size() == 1);
  CHECK(p[0]["suspected_check"] == "data");
  CHECK(p[0]["suspected_incident_id"] == data["incident_id"]);
  CHECK(p[0]["key"] == "web1/correlation/data");
  CHECK(p[0]["incident_ids"] == nlohmann::json::array({proc["incident_id"], data["incident_id"]}));
  CHECK(p[0]["summary"] ==
        "data critical at 11:06:45Z suspected cause (depends_on); process -5 s opened within 2m");
  CHECK(data["problem_role"] == "cause");
  CHECK(open_incident(h, "process")["problem_role"] == "symptom");

  // A later member does not change it.
  h.clock.advance(5 * kSecond);
  auto more = problems(h.eval("log", kCritical));
  REQUIRE(more.size() == 1);
  CHECK(more[0]["suspected_check"] == "data");
}

TEST_CASE("a relapse or flapping of a member is no new opening", "[incidents]") {
  Harness h;
  h.policy.resolve_after = kMinute;
  h.policy.flap_changes = 4;
  h.eval("disk", kOk);
  h.eval("log", kOk);
  h.eval("disk", kCritical);
  h.clock.advance(kSecond);
  REQUIRE(problems(h.eval("log", kCritical)).size() == 1);
  // Relapse within resolve_after: the same incident.
  h.clock.advance(kSecond);
  CHECK(h.eval("log", kOk).empty());
  h.clock.advance(kSecond);
  CHECK(h.eval("log", kCritical).empty());
  // Flapping: held open, no new opening either.
  h.clock.advance(kSecond);
  auto flap = h.eval("log", kOk);
  REQUIRE(flap.size() == 1);
  CHECK(parse(flap[0])["flapping"] == true);
  CHECK(problems(h.eval("log", kCritical)).empty());
  REQUIRE(h.manager.open_problems_json().size() == 1);
  CHECK(nlohmann::json::parse(h.manager.open_problems_json()[0])["incident_count"] == 2);
}

TEST_CASE("a correlation group survives a restart", "[incidents]") {
  Harness h;
  h.depends_on["log"] = {"disk"};
  auto disk = opened(h.eval("disk", kCritical));
  h.clock.advance(10 * kSecond);
  auto p = problems(h.eval("log", kCritical));
  REQUIRE(p.size() == 1);
  std::string saved = h.manager.save();

  Harness after;
  after.depends_on = h.depends_on;
  for (const auto& [name, slot] : h.slots) {
    after.slots[name].state = slot.state;
  }
  REQUIRE(after.manager.load(saved, 20 * kSecond).ok());
  CHECK(after.manager.open_problem_count() == 1);
  CHECK(open_incident(after, "log")["problem_id"] == p[0]["problem_id"]);
  // 30 s after the first opening (20 s of it downtime): still within the window.
  auto joined = problems(after.eval("process", kCritical));
  REQUIRE(joined.size() == 1);
  CHECK(joined[0]["action"] == "update");
  CHECK(joined[0]["problem_id"] == p[0]["problem_id"]);
  CHECK(joined[0]["incident_count"] == 3);
  CHECK(joined[0]["key"] == "web1/correlation/disk");
  CHECK(joined[0]["suspected_incident_id"] == disk["incident_id"]);

  after.eval("disk", kOk);
  after.eval("log", kOk);
  auto last = problems(after.eval("process", kOk));
  REQUIRE(last.size() == 1);
  CHECK(last[0]["action"] == "resolve");

  SECTION("a document saved before correlation existed still loads") {
    auto doc = nlohmann::json::parse(saved);
    doc.erase("correlations");
    for (auto& c : doc["checks"]) {
      c.erase("depends_on");
      c["policy"].erase("correlate_window_ms");
    }
    Harness old;
    REQUIRE(old.manager.load(doc.dump(), Duration(0)).ok());
    CHECK(old.manager.open_incident_count() == 2);
    CHECK(old.manager.open_problem_count() == 0);
    CHECK(open_incident(old, "log")["problem_id"].is_null());
  }
}

}  // namespace
}  // namespace vigil
