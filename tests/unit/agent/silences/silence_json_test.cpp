#include "agent/silences/silence_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace vigil {
namespace {

const SystemTime kNow = from_millis(1795000000123);

Silence sample() {
  Silence s;
  s.id = "6d0f2b71-7c3e-4c8e-9a4b-1e2f3a4b5c6d";
  s.matchers.push_back(*parse_matcher("check=~disk_.*"));
  s.matchers.push_back(*parse_matcher("tag.env!=dev"));
  s.starts_at = kNow;
  s.ends_at = kNow + std::chrono::hours(2);
  s.updated_at = kNow;
  s.created_by = "alice";
  s.comment = "swap the disk \xff";  // invalid UTF-8 is replaced, never a throw
  s.expire_on_resolve = true;
  s.peer = "root";
  return s;
}

TEST_CASE("GET /silences lists Alertmanager's fields, the state and vigil's", "[silences]") {
  nlohmann::ordered_json list = nlohmann::ordered_json::parse(silences_json({sample()}, kNow));
  REQUIRE(list.is_array());
  REQUIRE(list.size() == 1);
  const nlohmann::ordered_json& s = list[0];
  std::vector<std::string> keys;
  for (auto it = s.begin(); it != s.end(); ++it) {
    keys.push_back(it.key());
  }
  CHECK(keys == std::vector<std::string>{"id", "status", "updatedAt", "matchers", "startsAt",
                                         "endsAt", "createdBy", "comment", "expireOnResolve",
                                         "peer", "window"});
  CHECK(s["status"] == nlohmann::ordered_json({{"state", "active"}}));
  CHECK(s["matchers"] == nlohmann::ordered_json::parse(
                             R"([{"name":"check","value":"disk_.*","isRegex":true,"isEqual":true},
                                 {"name":"tag.env","value":"dev","isRegex":false,"isEqual":false}])"));
  CHECK(s["startsAt"] == "2026-11-18T11:06:40.123Z");
  CHECK(s["endsAt"] == "2026-11-18T13:06:40.123Z");
  CHECK(s["createdBy"] == "alice");
  CHECK(s["comment"] == "swap the disk \xef\xbf\xbd");
  CHECK(s["window"].is_null());
  nlohmann::json later =
      nlohmann::json::parse(silences_json({sample()}, kNow + std::chrono::hours(3)));
  CHECK(later[0]["status"]["state"] == "expired");
}

TEST_CASE("silences.json reads back what it holds", "[silences]") {
  Silence s = sample();
  s.comment = "swap the disk";
  std::string doc = silences_document({s});
  Result<std::vector<Silence>> back = parse_silences_document(doc);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 1);
  const Silence& b = back->front();
  CHECK(b.id == s.id);
  CHECK(b.starts_at == s.starts_at);
  CHECK(b.ends_at == s.ends_at);
  CHECK(b.updated_at == s.updated_at);
  CHECK(b.created_by == "alice");
  CHECK(b.comment == "swap the disk");
  CHECK(b.expire_on_resolve);
  CHECK(b.peer == "root");
  REQUIRE(b.matchers.size() == 2);
  CHECK(b.matchers[0].text() == "check=~disk_.*");
  CHECK(b.matchers[1].text() == "tag.env!=dev");
  CHECK(b.mutes(SilenceSubject{"disk_root", "disk", "critical", {{"env", "prod"}}}, kNow));
  CHECK(silences_document(*back) == doc);
}

TEST_CASE("a damaged silences.json is an error naming what is wrong", "[silences]") {
  CHECK_FALSE(parse_silences_document("").ok());
  CHECK_FALSE(parse_silences_document("{\"version\": 1, \"silences\": [").ok());
  CHECK_THAT(parse_silences_document("{\"version\": 2, \"silences\": []}").error(),
             Catch::Contains("version"));
  nlohmann::json doc = nlohmann::json::parse(silences_document({sample()}));
  for (const char* field : {"id", "startsAt", "endsAt", "updatedAt", "matchers", "createdBy"}) {
    nlohmann::json broken = doc;
    broken["silences"][0][field] = 7;
    Result<std::vector<Silence>> r = parse_silences_document(broken.dump());
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error(), Catch::Contains(field));
  }
  nlohmann::json bad_regex = doc;
  bad_regex["silences"][0]["matchers"][0]["value"] = "disk_(";
  CHECK_THAT(parse_silences_document(bad_regex.dump()).error(), Catch::Contains("invalid regex"));
}

TEST_CASE("a POST body is read field by field; createdBy may be left to the agent", "[silences]") {
  Silence s = sample();
  s.created_by.clear();
  Result<Silence> back = parse_silence_request(silence_request_json(s));
  REQUIRE(back.ok());
  CHECK(back->created_by.empty());
  CHECK(back->id.empty());
  CHECK(back->peer.empty());
  CHECK(back->expire_on_resolve);
  CHECK(back->matchers.size() == 2);
  // Alertmanager's body without vigil's fields; isEqual defaults to true.
  Result<Silence> am = parse_silence_request(
      R"({"matchers":[{"name":"check","value":"x","isRegex":false}],
          "startsAt":"2026-11-18T11:06:40Z","endsAt":"2026-11-18T12:06:40+01:00",
          "createdBy":"bob","comment":"c"})");
  REQUIRE(am.ok());
  CHECK(am->matchers[0].is_equal);
  CHECK(am->ends_at == am->starts_at);
  CHECK_FALSE(am->expire_on_resolve);
}

TEST_CASE("a bad POST body is refused in one line saying which field", "[silences]") {
  auto error = [](const std::string& body) {
    Result<Silence> r = parse_silence_request(body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().find('\n') == std::string::npos);
    return r.error();
  };
  CHECK_THAT(error("not json"), Catch::Contains("not JSON"));
  CHECK_THAT(error("[]"), Catch::Contains("object"));
  CHECK_THAT(error(R"({"startsAt":"2026-11-18T11:06:40Z","endsAt":"2026-11-18T12:06:40Z"})"),
             Catch::Contains("matchers"));
  CHECK_THAT(error(R"({"matchers":[{"name":"check"}],"startsAt":"x","endsAt":"y"})"),
             Catch::Contains("matchers[0].value"));
  CHECK_THAT(error(R"({"matchers":[],"startsAt":"soon","endsAt":"2026-11-18T12:06:40Z"})"),
             Catch::Contains("startsAt must be an RFC 3339 time"));
  CHECK_THAT(error(R"({"matchers":[],"startsAt":"2026-11-18T11:06:40Z",
                       "endsAt":"2026-11-18T12:06:40Z","expireOnResolve":"yes"})"),
             Catch::Contains("expireOnResolve"));
  CHECK_THAT(error(R"({"matchers":[{"name":"host","value":"x"}],"startsAt":"2026-11-18T11:06:40Z",
                       "endsAt":"2026-11-18T12:06:40Z"})"),
             Catch::Contains("check, plugin, severity or tag.KEY"));
}

}  // namespace
}  // namespace vigil
