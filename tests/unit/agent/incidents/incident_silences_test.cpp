#include <catch2/catch.hpp>

#include "agent/incidents/incident_manager.h"
#include "agent/silences/silence_set.h"
#include "tests/unit/agent/incidents/incident_harness.h"

// The incident manager with silences (docs/SILENCES.md): records carry what mutes
// them, and a silence that starts or ends while an incident is open says so.
namespace vigil {
namespace {

using test::Harness;
using test::kMinute;
using test::parse;

constexpr CheckState kOk = CheckState::kOk;
constexpr CheckState kWarning = CheckState::kWarning;
constexpr CheckState kCritical = CheckState::kCritical;

struct Silenced : Harness {
  SilenceSet set;
  Silenced() { manager.set_silences(&set); }

  std::string silence(const char* matcher, Duration from, Duration length,
                      bool expire_on_resolve = false) {
    Silence s;
    s.matchers.push_back(*parse_matcher(matcher));
    s.starts_at = clock.wall() + from;
    s.ends_at = s.starts_at + length;
    s.created_by = "alice";
    s.comment = "maintenance";
    s.expire_on_resolve = expire_on_resolve;
    Result<std::string> id = set.add(std::move(s), clock.wall());
    REQUIRE(id.ok());
    return *id;
  }
};

TEST_CASE("an incident that opens under a silence says so and is still made", "[incidents]") {
  Silenced h;
  std::string id = h.silence("check=disk_root", Duration(0), 10 * kMinute);
  auto opened = h.eval("disk_root", kCritical);
  REQUIRE(opened.size() == 1);
  auto open = parse(opened[0]);
  CHECK(open["action"] == "open");
  CHECK(open["silenced"] == true);
  CHECK(open["silence_ids"] == nlohmann::json::array({id}));
  CHECK(opened[0].silenced);
  auto other = test::only(h.eval("cpu", kCritical), RecordKind::kIncident);
  REQUIRE(other.size() == 1);
  CHECK(parse(other[0])["silenced"] == false);
  CHECK(parse(other[0])["silence_ids"] == nlohmann::json::array());
  CHECK_FALSE(other[0].silenced);
}

TEST_CASE("when its silence ends, an open incident gets an update with silenced false",
          "[incidents]") {
  Silenced h;
  h.silence("check=disk_root", Duration(0), 10 * kMinute);
  h.eval("disk_root", kCritical);
  h.clock.advance(10 * kMinute - Duration(1));
  CHECK(h.manager.refresh_silences().empty());
  h.clock.advance(Duration(1));
  auto records = h.manager.refresh_silences();
  REQUIRE(records.size() == 1);
  auto update = parse(records[0]);
  CHECK(update["action"] == "update");
  CHECK(update["silenced"] == false);
  CHECK(update["silence_ids"] == nlohmann::json::array());
  CHECK(update["event_id"].is_null());
  CHECK_FALSE(records[0].silenced);
  CHECK(h.manager.refresh_silences().empty());  // said once
}

TEST_CASE("a silence that starts over an open incident mutes it with an update", "[incidents]") {
  Silenced h;
  h.eval("disk_root", kCritical);
  std::string id = h.silence("plugin=exec", kMinute, kMinute);
  CHECK(h.manager.refresh_silences().empty());  // pending
  h.clock.advance(kMinute);
  auto records = h.manager.refresh_silences();
  REQUIRE(records.size() == 1);
  CHECK(parse(records[0])["silenced"] == true);
  CHECK(parse(records[0])["silence_ids"] == nlohmann::json::array({id}));
  CHECK(records[0].silenced);
}

TEST_CASE("escalations of a silenced incident are made, and muted", "[incidents]") {
  Silenced h;
  h.policy.escalate_after = {5 * kMinute};
  h.silence("check=disk_root", Duration(0), 30 * kMinute);
  h.eval("disk_root", kCritical);
  auto escalated = h.after(5 * kMinute);
  REQUIRE(escalated.size() == 1);
  CHECK(parse(escalated[0])["action"] == "escalate");
  CHECK(escalated[0].silenced);
}

TEST_CASE("a severity matcher follows the incident's severity", "[incidents]") {
  Silenced h;
  h.silence("severity=warning", Duration(0), 30 * kMinute);
  auto opened = h.eval("disk_root", kWarning);
  CHECK(opened.at(0).silenced);
  h.clock.advance(kMinute);
  auto worse = h.eval("disk_root", kCritical);
  REQUIRE(worse.size() == 1);
  CHECK(parse(worse[0])["action"] == "update");
  CHECK_FALSE(worse[0].silenced);  // critical pages again
}

TEST_CASE("an expire-on-resolve silence ends at the resolve of the incident it muted",
          "[incidents]") {
  Silenced h;
  std::string id = h.silence("check=~disk_.*", Duration(0), 60 * kMinute, true);
  h.eval("disk_root", kCritical);
  h.eval("disk_data", kCritical);
  (void)h.set.take_changed();
  h.clock.advance(kMinute);
  auto resolved = h.eval("disk_root", kOk);
  REQUIRE(resolved.size() == 1);
  auto resolve = parse(resolved[0]);
  CHECK(resolve["action"] == "resolve");
  CHECK(resolve["silenced"] == true);  // it was muted up to its end
  CHECK(resolve["silence_ids"] == nlohmann::json::array({id}));
  CHECK(h.set.take_changed());
  CHECK(h.set.list(h.clock.wall()).front().state(h.clock.wall()) == SilenceState::kExpired);
  // The other incident it muted is muted no more.
  auto unmuted = h.manager.refresh_silences();
  REQUIRE(unmuted.size() == 1);
  CHECK(parse(unmuted[0])["check"] == "disk_data");
  CHECK(parse(unmuted[0])["silenced"] == false);
}

TEST_CASE("silences and acks of an open incident survive a restart", "[incidents]") {
  Silenced h;
  h.silence("check=disk_root", Duration(0), 60 * kMinute);
  h.eval("disk_root", kCritical);
  REQUIRE(h.manager.acknowledge("disk_root", "bob", "looking").kind ==
          IncidentManager::AckOutcome::Kind::kAcknowledged);
  IncidentManager again(h.clock, "web1");
  REQUIRE(again.load(h.manager.save(), Duration(0)).ok());
  auto open = nlohmann::json::parse(again.open_incidents_json().at(0));
  CHECK(open["silenced"] == true);
  CHECK(open["silence_ids"].size() == 1);
  CHECK(open["acknowledged_by"] == "bob");
  CHECK(open["ack_comment"] == "looking");
  CHECK(open["acknowledged_at"] == format_rfc3339(h.clock.wall()));
  // Without the silences (they expired while it was down), the first refresh unmutes it.
  auto records = again.refresh_silences();
  REQUIRE(records.size() == 1);
  CHECK(parse(records[0])["silenced"] == false);
}

TEST_CASE("an ack is a record of its own and stops escalation and renotify", "[incidents]") {
  Harness h;
  h.policy.escalate_after = {2 * kMinute, 4 * kMinute};
  h.policy.renotify = 3 * kMinute;
  h.eval("disk_root", kWarning);
  h.clock.advance(kMinute);
  auto out = h.manager.acknowledge("disk_root", "carol", "restarting it");
  REQUIRE(out.kind == IncidentManager::AckOutcome::Kind::kAcknowledged);
  REQUIRE(out.records.size() == 1);
  auto ack = parse(out.records[0]);
  CHECK(ack["action"] == "ack");
  CHECK(ack["status"] == "open");
  CHECK(ack["acknowledged_by"] == "carol");
  CHECK(ack["ack_comment"] == "restarting it");
  CHECK(ack["acknowledged_at"] == format_rfc3339(h.clock.wall()));
  CHECK(ack["escalation_level"] == 0);
  CHECK(out.records[0].ack);
  CHECK(out.incident_id == ack["incident_id"]);
  CHECK(h.manager.next_deadline() == std::nullopt);
  CHECK(h.after(10 * kMinute).empty());
  // Later records carry the ack; a better severity keeps it.
  auto better = h.eval("disk_root", CheckState::kUnknown);
  REQUIRE(better.size() == 1);
  CHECK(parse(better[0])["acknowledged_by"] == "carol");
  CHECK(h.after(10 * kMinute).empty());
}

TEST_CASE("a worse severity clears the ack; the escalations due follow at once", "[incidents]") {
  Harness h;
  h.policy.escalate_after = {2 * kMinute, 4 * kMinute};
  h.eval("disk_root", kWarning);
  h.clock.advance(kMinute);
  REQUIRE(h.manager.acknowledge("disk_root", "carol", "").kind ==
          IncidentManager::AckOutcome::Kind::kAcknowledged);
  CHECK(h.after(5 * kMinute).empty());
  auto worse = h.eval("disk_root", kCritical);
  REQUIRE(worse.size() == 1);
  auto update = parse(worse[0]);
  CHECK(update["action"] == "update");
  CHECK(update["severity"] == "critical");
  CHECK(update["acknowledged_at"].is_null());
  CHECK(update["acknowledged_by"].is_null());
  CHECK(update["ack_comment"].is_null());
  auto escalations = h.manager.tick();
  REQUIRE(escalations.size() == 2);
  CHECK(parse(escalations[0])["escalation_level"] == 1);
  CHECK(parse(escalations[1])["escalation_level"] == 2);
}

TEST_CASE("a worse severity clears the ack even while the incident flaps", "[incidents]") {
  Harness h;
  h.policy.flap_changes = 2;
  h.eval("disk_root", kWarning);
  h.eval("disk_root", kOk);
  auto flapping = h.eval("disk_root", kWarning);
  REQUIRE(parse(flapping.at(0))["flapping"] == true);
  REQUIRE(h.manager.acknowledge("disk_root", "carol", "").kind ==
          IncidentManager::AckOutcome::Kind::kAcknowledged);
  auto worse = h.eval("disk_root", kCritical);
  REQUIRE(worse.size() == 1);
  CHECK(parse(worse[0])["acknowledged_at"].is_null());
}

TEST_CASE("an ack names an open incident by id or check, once", "[incidents]") {
  Harness h;
  auto opened = h.eval("disk_root", kCritical);
  std::string id = parse(opened.at(0))["incident_id"];
  auto by_id = h.manager.acknowledge(id, "dave", "");
  CHECK(by_id.kind == IncidentManager::AckOutcome::Kind::kAcknowledged);
  CHECK(parse(by_id.records.at(0))["ack_comment"].is_null());
  auto again = h.manager.acknowledge("disk_root", "erin", "");
  CHECK(again.kind == IncidentManager::AckOutcome::Kind::kAlreadyAcknowledged);
  CHECK_THAT(again.message, Catch::Contains("acknowledged by dave"));
  CHECK(again.records.empty());
  auto none = h.manager.acknowledge("cpu", "erin", "");
  CHECK(none.kind == IncidentManager::AckOutcome::Kind::kNotFound);
  CHECK_THAT(none.message, Catch::Contains("no open incident"));
  h.eval("disk_root", kOk);
  CHECK(h.manager.acknowledge(id, "erin", "").kind == IncidentManager::AckOutcome::Kind::kNotFound);
}

TEST_CASE("a resolved and reopened incident starts without an ack", "[incidents]") {
  Harness h;
  h.policy.escalate_after = {kMinute};
  h.eval("disk_root", kCritical);
  REQUIRE(h.manager.acknowledge("disk_root", "dave", "").kind ==
          IncidentManager::AckOutcome::Kind::kAcknowledged);
  h.eval("disk_root", kOk);
  auto reopened = h.eval("disk_root", kCritical);
  CHECK(parse(reopened.at(0))["acknowledged_at"].is_null());
  auto escalated = h.after(kMinute);
  REQUIRE(escalated.size() == 1);
  CHECK(parse(escalated[0])["action"] == "escalate");
}

}  // namespace
}  // namespace vigil
