#include "agent/records/event_record.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace vigil {
namespace {

using nlohmann::json;

json parse(const Record& r) {
  json j = json::parse(r.json, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.is_object());
  return j;
}

// Field order is not part of the contract; presence is.
std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    out.insert(it.key());
  }
  return out;
}

// Strict UTF-8 check, independent of the product's sanitiser.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80                        ? 1
                 : (c >> 5) == 0x6 && c >= 0xC2  ? 2
                 : (c >> 4) == 0xE               ? 3
                 : (c >> 3) == 0x1E && c <= 0xF4 ? 4
                                                 : 0;
    if (len == 0 || i + len > s.size()) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

const SystemTime kTime = from_millis(1795526102123);
const std::set<std::string> kEventKeys = {
    "kind",           "id",     "time",  "host", "tags",    "check",   "plugin", "state",
    "previous_state", "metric", "value", "rule", "message", "runbook", "samples"};

}  // namespace

TEST_CASE("an event record has every field, with values", "[records]") {
  EventFields f;
  f.host = "web1";
  f.tags = {{"env", "prod"}, {"role", "db"}};
  f.check = "root";
  f.plugin = "disk";
  f.state = CheckState::kCritical;
  f.previous_state = CheckState::kWarning;
  f.evaluation.metric = "used_percent";
  f.evaluation.value = 97.5;
  f.evaluation.rule = "used_percent > 95";
  f.evaluation.message = "root: used_percent is 97.5 (used_percent > 95)";
  f.runbook = "https://wiki/disk";
  Record r = make_event_record(f, "0190a1b2-0000-7000-8000-000000000001", kTime);
  CHECK(r.kind == RecordKind::kEvent);
  CHECK(r.id == "0190a1b2-0000-7000-8000-000000000001");
  CHECK(r.json.find('\n') == std::string::npos);
  json j = parse(r);
  CHECK(keys_of(j) == kEventKeys);
  CHECK(j["kind"] == "event");
  CHECK(j["id"] == r.id);
  CHECK(j["time"] == "2026-11-24T13:15:02.123Z");
  CHECK(j["host"] == "web1");
  CHECK(j["tags"] == json({{"env", "prod"}, {"role", "db"}}));
  CHECK(j["check"] == "root");
  CHECK(j["plugin"] == "disk");
  CHECK(j["state"] == "critical");
  CHECK(j["previous_state"] == "warning");
  CHECK(j["metric"] == "used_percent");
  CHECK(j["value"].is_number());
  CHECK(j["value"].get<double>() == 97.5);
  CHECK(j["rule"] == "used_percent > 95");
  CHECK(j["message"] == f.evaluation.message);
  CHECK(j["runbook"] == "https://wiki/disk");
  CHECK(j["samples"] == json::array());
}

TEST_CASE("an event record without values has nulls, never missing fields", "[records]") {
  EventFields f;
  f.host = "web1";
  f.check = "cpu";
  f.plugin = "cpu";
  f.state = CheckState::kOk;
  f.evaluation.message = "cpu is ok";
  json j = parse(make_event_record(f, "id-1", kTime));
  CHECK(keys_of(j) == kEventKeys);
  CHECK(j["tags"] == json::object());
  CHECK(j["previous_state"].is_null());
  CHECK(j["metric"].is_null());
  CHECK(j["value"].is_null());
  CHECK(j["rule"].is_null());
  CHECK(j["runbook"].is_null());
  CHECK(j["samples"] == json::array());
  CHECK(j["state"] == "ok");
}

TEST_CASE("an event record writes a non-finite value as null", "[records]") {
  double v =
      GENERATE(std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
               -std::numeric_limits<double>::infinity());
  EventFields f;
  f.check = "x";
  f.plugin = "exec";
  f.state = CheckState::kUnknown;
  f.evaluation.metric = "latency";
  f.evaluation.value = v;
  json j = parse(make_event_record(f, "id-1", kTime));
  CHECK(j["value"].is_null());
  CHECK(j["metric"] == "latency");
  CHECK(j["state"] == "unknown");
}

TEST_CASE("event samples are cut to 512 bytes of valid UTF-8", "[records]") {
  EventFields f;
  f.check = "syslog";
  f.plugin = "log";
  f.state = CheckState::kWarning;
  // One ASCII byte, then two-byte characters: byte 512 is the first half of one.
  std::string two_byte = "a";
  for (int i = 0; i < 400; ++i) {
    two_byte += "\xC3\xA9";  // é
  }
  std::string invalid = "bad \xFF\xFE bytes \xC3";
  std::string four_byte;
  for (int i = 0; i < 200; ++i) {
    four_byte += "\xF0\x9F\x98\x80";  // 😀
  }
  f.samples = {"short line", two_byte, invalid, four_byte};
  json j = parse(make_event_record(f, "id-1", kTime));
  REQUIRE(j["samples"].size() == 4);
  std::vector<std::string> got;
  for (const auto& s : j["samples"]) {
    REQUIRE(s.is_string());
    got.push_back(s.get<std::string>());
  }
  CHECK(got[0] == "short line");
  CHECK(got[1].size() == 511);
  CHECK(two_byte.compare(0, got[1].size(), got[1]) == 0);
  CHECK(got[2] == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD");
  CHECK(got[3].size() == 512);
  CHECK(four_byte.compare(0, 512, got[3]) == 0);
  for (const std::string& s : got) {
    CHECK(s.size() <= 512);
    CHECK(valid_utf8(s));
  }
}

TEST_CASE("a heartbeat record has every field", "[records]") {
  HeartbeatFields f;
  f.host = "web1";
  f.uptime_seconds = 12.5;
  f.spool_records = 7;
  f.loss = {1, 2, 3, 4};
  Record r = make_heartbeat_record(f, "id-9", kTime);
  CHECK(r.kind == RecordKind::kHeartbeat);
  json j = parse(r);
  CHECK(keys_of(j) == std::set<std::string>{"kind", "id", "time", "host", "tags", "uptime_seconds",
                                            "version", "spool_records", "dropped", "corrupt_frames",
                                            "dead_lettered", "log_bytes_skipped"});
  CHECK(j["kind"] == "heartbeat");
  CHECK(j["id"] == "id-9");
  CHECK(j["time"] == "2026-11-24T13:15:02.123Z");
  CHECK(j["tags"] == json::object());
  CHECK(j["uptime_seconds"].get<double>() == 12.5);
  CHECK(j["version"] == VIGIL_VERSION);
  CHECK(j["spool_records"] == 7);
  CHECK(j["dropped"] == 1);
  CHECK(j["corrupt_frames"] == 2);
  CHECK(j["dead_lettered"] == 3);
  CHECK(j["log_bytes_skipped"] == 4);
}

TEST_CASE("record text stays valid JSON whatever bytes the fields hold", "[records]") {
  EventFields f;
  f.host = "host\xFF";
  f.check = "c";
  f.plugin = "exec";
  f.tags = {{"k\xC3", "v\"\n"}};
  f.evaluation.message = "exit \x80 message\t\"quoted\"";
  Record r = make_event_record(f, "id", kTime);
  json j = parse(r);
  CHECK(valid_utf8(j["host"].get<std::string>()));
  CHECK(valid_utf8(j["message"].get<std::string>()));
  CHECK(j["message"].get<std::string>().find("\"quoted\"") != std::string::npos);
}

}  // namespace vigil
