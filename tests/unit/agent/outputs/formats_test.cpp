#include "agent/outputs/formats.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace vigil {
namespace {

using nlohmann::json;

size_t utf8_chars(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

json incident_record(const std::string& action, const std::string& severity) {
  return json{{"kind", "incident"},
              {"id", "0190a1b2-0000-7000-8000-000000000001"},
              {"time", "2026-11-24T13:15:02.123Z"},
              {"host", "web1"},
              {"tags", {{"env", "prod"}}},
              {"incident_id", "0190a1b2-0000-7000-8000-0000000000aa"},
              {"key", "web1/root"},
              {"action", action},
              {"status", action == "resolve" ? "resolved" : "open"},
              {"severity", severity},
              {"opened_at", "2026-11-24T13:00:00.000Z"},
              {"resolved_at", action == "resolve" ? json("2026-11-24T13:20:00.000Z") : json()},
              {"occurrences", 3},
              {"escalation_level", 0},
              {"flapping", false},
              {"check", "root"},
              {"summary", "root: used_percent is 97 (used_percent > 95)"},
              {"runbook", "https://wiki.example/disk"},
              {"event_id", nullptr},
              {"problem_id", nullptr},
              {"problem_role", nullptr}};
}

json parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

}  // namespace

TEST_CASE("vigil body is the agent envelope around the records, in order", "[formats]") {
  AgentInfo agent{"web1", "1.2.3", "0190a1b2-0000-4000-8000-000000000001"};
  std::vector<SpoolEntry> batch = {{"a", R"({"kind":"event","n":1})"},
                                   {"b", R"({"kind":"heartbeat","n":2,"s":"\u00e9\"q"})"}};
  json j = parse(vigil_body(agent, batch));
  REQUIRE(j.is_object());
  CHECK(j["agent"] == json({{"host", "web1"}, {"version", "1.2.3"}, {"instance", agent.instance}}));
  REQUIRE(j["records"].is_array());
  REQUIRE(j["records"].size() == 2);
  CHECK(j["records"][0] == json::parse(batch[0].payload));
  CHECK(j["records"][1] == json::parse(batch[1].payload));
  CHECK(parse(vigil_body(agent, {}))["records"] == json::array());
}

TEST_CASE("vigil body stays valid JSON with hostile agent fields", "[formats]") {
  AgentInfo agent{"we\"b\xFF", "1", "i"};
  json j = parse(vigil_body(agent, {{"a", "{}"}}));
  CHECK(j["agent"]["host"].get<std::string>().rfind("we\"b", 0) == 0);
}

TEST_CASE("pagerduty body follows the Events API v2", "[formats]") {
  json rec = incident_record("open", "critical");
  json j = parse(pagerduty_body("R0UT1NGKEY", rec.dump()));
  CHECK(j["routing_key"] == "R0UT1NGKEY");
  CHECK(j["event_action"] == "trigger");
  CHECK(j["dedup_key"] == "web1/root");
  CHECK(j["payload"]["summary"] == rec["summary"]);
  CHECK(j["payload"]["source"] == "web1");
  CHECK(j["payload"]["severity"] == "critical");
  CHECK(j["payload"]["component"] == "root");
  CHECK(j["payload"]["custom_details"] == rec);
  CHECK(j["links"] == json::array({{{"href", "https://wiki.example/disk"}}}));
}

TEST_CASE("pagerduty event_action is resolve for a resolve, acknowledge for an ack", "[formats]") {
  auto [action, expected] = GENERATE(table<std::string, std::string>({{"open", "trigger"},
                                                                      {"update", "trigger"},
                                                                      {"escalate", "trigger"},
                                                                      {"renotify", "trigger"},
                                                                      {"ack", "acknowledge"},
                                                                      {"resolve", "resolve"}}));
  json j = parse(pagerduty_body("k", incident_record(action, "warning").dump()));
  CHECK(j["event_action"] == expected);
}

TEST_CASE("pagerduty severity maps unknown to error", "[formats]") {
  auto [severity, expected] = GENERATE(table<std::string, std::string>(
      {{"critical", "critical"}, {"warning", "warning"}, {"unknown", "error"}}));
  json j = parse(pagerduty_body("k", incident_record("open", severity).dump()));
  CHECK(j["payload"]["severity"] == expected);
}

TEST_CASE("pagerduty summary is cut to 1024 Unicode characters", "[formats]") {
  json rec = incident_record("open", "warning");
  std::string summary = "x";
  for (int i = 0; i < 700; ++i) {
    summary += "\xC3\xA9\xF0\x9F\x98\x80";  // é then 😀: 2 and 4 bytes
  }
  rec["summary"] = summary;
  json j = parse(pagerduty_body("k", rec.dump()));
  std::string got = j["payload"]["summary"].get<std::string>();
  CHECK(utf8_chars(got) == 1024);
  CHECK(summary.compare(0, got.size(), got) == 0);
  // It ends on a whole character: the 1024th is an é (odd positions after the x).
  CHECK(got.size() == 1 + 511 * 6 + 2);
  // The full record still travels in custom_details.
  CHECK(j["payload"]["custom_details"]["summary"] == summary);

  rec["summary"] = std::string(1024, 's');
  CHECK(parse(pagerduty_body("k", rec.dump()))["payload"]["summary"] == std::string(1024, 's'));
}

TEST_CASE("pagerduty links only an http(s) runbook", "[formats]") {
  json rec = incident_record("open", "warning");
  SECTION("http") {
    rec["runbook"] = "http://wiki/x";
    CHECK(parse(pagerduty_body("k", rec.dump()))["links"] ==
          json::array({{{"href", "http://wiki/x"}}}));
  }
  SECTION("text, another scheme or none") {
    rec["runbook"] = GENERATE(json("restart the service, then call Bob"), json("ftp://wiki/x"),
                              json(nullptr), json("see https://wiki/x"));
    json j = parse(pagerduty_body("k", rec.dump()));
    CHECK((!j.contains("links") || j["links"] == json::array()));
  }
}

TEST_CASE("alertmanager body sends the latest state of each incident", "[formats]") {
  SystemTime now = from_millis(1795526102123);  // 2026-11-24T13:15:02.123Z
  json root_open = incident_record("open", "warning");
  json root_update = incident_record("update", "critical");
  json root_resolve = incident_record("resolve", "critical");
  json cpu_open = incident_record("open", "warning");
  cpu_open["key"] = "web1/cpu";
  cpu_open["incident_id"] = "0190a1b2-0000-7000-8000-0000000000bb";
  cpu_open["check"] = "cpu";
  cpu_open["runbook"] = nullptr;
  cpu_open["tags"] = {{"env", "prod"}, {"team-name", "ops"}, {"1st", "a"}, {"k.v/x", "b"}};
  json j = parse(alertmanager_body(
      {root_open.dump(), cpu_open.dump(), root_update.dump(), root_resolve.dump()}, now));
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 2);
  const json& root = j[0];
  const json& cpu = j[1];
  CHECK(root["labels"]["alertname"] == "root");
  CHECK(root["labels"]["instance"] == "web1");
  CHECK(root["labels"]["severity"] == "critical");
  CHECK(root["labels"]["env"] == "prod");
  CHECK(root["annotations"]["summary"] == root_resolve["summary"]);
  CHECK(root["annotations"]["runbook_url"] == "https://wiki.example/disk");
  CHECK(root["startsAt"] == "2026-11-24T13:00:00.000Z");
  CHECK(root["endsAt"] == "2026-11-24T13:20:00.000Z");  // resolved_at

  CHECK(cpu["labels"]["alertname"] == "cpu");
  CHECK(cpu["labels"]["severity"] == "warning");
  CHECK(cpu["endsAt"] == "2026-11-24T13:20:02.123Z");  // now + 5 m
  const std::regex label_name("[a-zA-Z_][a-zA-Z0-9_]*");
  for (auto it = cpu["labels"].begin(); it != cpu["labels"].end(); ++it) {
    INFO(it.key());
    CHECK(std::regex_match(it.key(), label_name));
    CHECK(it.value().is_string());
  }
  CHECK(cpu["labels"]["team_name"] == "ops");
  CHECK(cpu["labels"]["_1st"] == "a");
  CHECK(cpu["labels"]["k_v_x"] == "b");
  CHECK(cpu["labels"]["env"] == "prod");
}

TEST_CASE("alertmanager tags never replace the alert's own labels", "[formats]") {
  json rec = incident_record("open", "warning");
  rec["tags"] = {{"severity", "none"}, {"alertname", "spoof"}, {"instance", "other"}};
  json j = parse(alertmanager_body({rec.dump()}, from_millis(0)));
  REQUIRE(j.size() == 1);
  CHECK(j[0]["labels"]["severity"] == "warning");
  CHECK(j[0]["labels"]["alertname"] == "root");
  CHECK(j[0]["labels"]["instance"] == "web1");
}

TEST_CASE("alertmanager labels an incident with its correlation problem and role", "[formats]") {
  json lone = incident_record("open", "critical");
  json symptom = incident_record("open", "warning");
  symptom["key"] = "web1/app";
  symptom["check"] = "app";
  symptom["incident_id"] = "0190a1b2-0000-7000-8000-0000000000bb";
  symptom["problem_id"] = lone["incident_id"];
  symptom["problem_role"] = "symptom";
  json j = parse(alertmanager_body({lone.dump(), symptom.dump()}, from_millis(0)));
  REQUIRE(j.size() == 2);
  // In no problem: its own id, so the labels stay when others join it.
  CHECK(j[0]["labels"]["vigil_problem"] == lone["incident_id"]);
  CHECK(j[0]["labels"]["vigil_role"] == "cause");
  CHECK(j[1]["labels"]["vigil_problem"] == lone["incident_id"]);
  CHECK(j[1]["labels"]["vigil_role"] == "symptom");
  // A tag does not replace them either.
  lone["tags"] = {{"vigil_role", "x"}};
  CHECK(parse(alertmanager_body({lone.dump()}, from_millis(0)))[0]["labels"]["vigil_role"] ==
        "cause");
}

TEST_CASE("alertmanager body skips records that are not JSON objects", "[formats]") {
  json rec = incident_record("open", "warning");
  json j = parse(alertmanager_body({"not json", "[1]", rec.dump()}, from_millis(0)));
  CHECK(j.size() == 1);
  CHECK(parse(alertmanager_body({}, from_millis(0))) == json::array());
}

TEST_CASE("alertmanager body keeps the resolve of one incident beside the next of its key",
          "[formats]") {
  // A check that recovered and failed again within one batch: two incidents of
  // one key, two alerts (vigil_problem differs). The first one's resolve must go,
  // or its alert stays active until its last endsAt.
  json first_resolve = incident_record("resolve", "critical");
  json second_open = incident_record("open", "critical");
  second_open["incident_id"] = "0190a1b2-0000-7000-8000-0000000000cc";
  json j = parse(
      alertmanager_body({first_resolve.dump(), second_open.dump()}, from_millis(1795526102123)));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["labels"]["vigil_problem"] == first_resolve["incident_id"]);
  CHECK(j[0]["endsAt"] == "2026-11-24T13:20:00.000Z");
  CHECK(j[1]["labels"]["vigil_problem"] == second_open["incident_id"]);
  CHECK(j[1]["endsAt"] == "2026-11-24T13:20:02.123Z");
}

TEST_CASE("prometheus_label_name makes valid label names", "[formats]") {
  CHECK(prometheus_label_name("env") == "env");
  CHECK(prometheus_label_name("team-name") == "team_name");
  CHECK(prometheus_label_name("9lives") == "_9lives");
  CHECK(prometheus_label_name("") == "_");
  CHECK(prometheus_label_name("caf\xC3\xA9") == "caf__");
}

}  // namespace vigil
