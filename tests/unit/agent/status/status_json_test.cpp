#include "agent/status/status_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil {
namespace {

using json = nlohmann::ordered_json;

std::vector<std::string> keys(const json& j) {
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    out.push_back(it.key());
  }
  return out;
}

StatusSnapshot sample_snapshot() {
  StatusSnapshot s;
  s.host = "h1";
  s.version = "1.2.3";
  s.instance = "inst";
  s.uptime_seconds = 12.5;
  CheckStatus disk;
  disk.name = "root";
  disk.plugin = "disk";
  disk.state = CheckState::kWarning;
  disk.since = SystemTime(std::chrono::milliseconds(1795000000123));
  disk.metrics = {{"used_percent", 91.5}, {"readonly", 0}};
  disk.last_run = SystemTime(std::chrono::milliseconds(1795000001000));
  s.checks.push_back(disk);
  CheckStatus fresh;
  fresh.name = "fresh";
  fresh.plugin = "load";
  s.checks.push_back(fresh);
  s.incidents.push_back(R"({"kind":"incident","key":"h1/root","status":"open"})");
  OutputStatus o;
  o.name = "main";
  o.url = "https://example.test/in";
  o.format = "vigil";
  o.spool_records = 3;
  o.failed = 2;
  o.last_error = "Could not resolve host";
  s.outputs.push_back(o);
  s.loss.dropped = 4;
  return s;
}

TEST_CASE("status JSON has exactly the fields docs/STATUS.md lists", "[status]") {
  json j = json::parse(status_json(sample_snapshot()));
  CHECK(keys(j) ==
        std::vector<std::string>{"agent", "checks", "incidents", "problems", "outputs", "loss"});
  CHECK(keys(j["agent"]) ==
        std::vector<std::string>{"host", "version", "instance", "uptime_seconds"});
  CHECK(j["agent"]["uptime_seconds"] == 12.5);
  REQUIRE(j["checks"].size() == 2);
  for (const json& c : j["checks"]) {
    CHECK(keys(c) == std::vector<std::string>{"name", "plugin", "state", "since", "metrics",
                                              "error", "last_run"});
  }
  REQUIRE(j["outputs"].size() == 1);
  CHECK(keys(j["outputs"][0]) ==
        std::vector<std::string>{"name", "url", "format", "spool_records", "spool_bytes",
                                 "spool_lane_bytes", "memory_records", "sent", "failed", "dropped",
                                 "dropped_by_kind", "dead_lettered", "last_error", "storage_error",
                                 "last_success"});
  CHECK(keys(j["outputs"][0]["dropped_by_kind"]) ==
        std::vector<std::string>{"event", "heartbeat", "incident", "problem"});
  CHECK(keys(j["loss"]) == std::vector<std::string>{"dropped", "corrupt_frames", "dead_lettered",
                                                    "log_bytes_skipped"});
}

TEST_CASE("status JSON writes times as RFC 3339 and missing values as null", "[status]") {
  json j = json::parse(status_json(sample_snapshot()));
  const json& disk = j["checks"][0];
  CHECK(disk["state"] == "warning");
  CHECK(disk["since"] == "2026-11-18T11:06:40.123Z");
  CHECK(disk["last_run"] == "2026-11-18T11:06:41.000Z");
  CHECK(disk["metrics"]["used_percent"] == 91.5);
  CHECK(disk["error"].is_null());
  const json& fresh = j["checks"][1];
  CHECK(fresh["state"].is_null());
  CHECK(fresh["since"].is_null());
  CHECK(fresh["last_run"].is_null());
  CHECK(fresh["metrics"] == json::object());
  const json& out = j["outputs"][0];
  CHECK(out["last_success"].is_null());
  CHECK(out["last_error"] == "Could not resolve host");
  CHECK(out["spool_records"] == 3);
  CHECK(j["incidents"][0]["key"] == "h1/root");
  CHECK(j["problems"] == json::array());
  CHECK(j["loss"]["dropped"] == 4);
}

TEST_CASE("status JSON keeps a check with an error and non-UTF-8 text valid", "[status]") {
  StatusSnapshot s;
  CheckStatus c;
  c.name = "bad";
  c.plugin = "exec";
  c.state = CheckState::kUnknown;
  c.error = std::string("broken \xff bytes");
  s.checks.push_back(c);
  json j = json::parse(status_json(s));
  CHECK(j["checks"][0]["state"] == "unknown");
  CHECK(j["checks"][0]["error"].get<std::string>().rfind("broken ", 0) == 0);
}

}  // namespace
}  // namespace vigil
