#include "agent/loop/control_api.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>

#include "agent/loop/peer_names.h"
#include "agent/loop/silence_keeper.h"
#include "agent/services/pool_file_saver.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

// The control endpoints' answers, from the request as the status server hands it over.
namespace vigil {
namespace {

struct Api {
  test::TempDir dir;
  test::TestLoop loop;
  IncidentManager incidents{real_clock(), "web1"};
  std::unique_ptr<PoolFileSaver> saver = std::make_unique<PoolFileSaver>(loop.get());
  std::unique_ptr<SilenceKeeper> keeper = std::make_unique<SilenceKeeper>(
      loop.get(), real_clock(), incidents, dir.path(), *saver, [](std::vector<Record>) {});
  std::unique_ptr<ControlApi> api = std::make_unique<ControlApi>(
      loop.get(), *keeper,
      [this](const std::string& target, const std::string& author, const std::string& comment) {
        return incidents.acknowledge(target, author, comment);
      });
  Peer me{true, getuid(), getgid(), getpid()};

  Api() { keeper->start(); }
  ~Api() {
    api.reset();
    keeper.reset();
    saver.reset();
    CHECK(loop.close() == 0);
  }

  HttpAnswer ask(const std::string& method, const std::string& path, const std::string& body = "") {
    std::optional<HttpAnswer> answer;
    api->handle(StatusRequest{method, path, body}, me, [&](HttpAnswer a) { answer = a; });
    REQUIRE(loop.run_until([&] { return answer.has_value(); }));
    return *answer;
  }

  std::string post_body(const char* matcher, const std::string& created_by = "") {
    SystemTime now = std::chrono::system_clock::now();
    nlohmann::json j = {{"matchers", {{{"name", "check"}, {"value", matcher}, {"isRegex", false}}}},
                        {"startsAt", format_rfc3339(now)},
                        {"endsAt", format_rfc3339(now + std::chrono::hours(1))},
                        {"comment", "disk swap"}};
    if (!created_by.empty()) {
      j["createdBy"] = created_by;
    }
    return j.dump();
  }
};

TEST_CASE("POST /silences adds one, authored by the peer unless it names an author",
          "[silences][loop]") {
  Api a;
  HttpAnswer added = a.ask("POST", "/silences", a.post_body("disk_root"));
  REQUIRE(added.status == 200);
  std::string id = nlohmann::json::parse(added.body)["silenceID"];
  HttpAnswer named = a.ask("POST", "/silences", a.post_body("cpu", "alice"));
  REQUIRE(named.status == 200);
  HttpAnswer list = a.ask("GET", "/silences");
  REQUIRE(list.status == 200);
  CHECK(list.content_type == "application/json");
  nlohmann::json silences = nlohmann::json::parse(list.body);
  REQUIRE(silences.size() == 2);
  CHECK(silences[0]["id"] == id);
  CHECK(silences[0]["createdBy"] == user_name(getuid()));
  CHECK(silences[0]["peer"] == user_name(getuid()));
  CHECK(silences[1]["createdBy"] == "alice");
  CHECK(silences[1]["peer"] == user_name(getuid()));
  CHECK(silences[0]["status"]["state"] == "active");
}

TEST_CASE("a refused silence is a 400 of one line", "[silences][loop]") {
  Api a;
  for (const std::string& body :
       {std::string("{"), a.post_body("x").replace(a.post_body("x").find("disk swap"), 9, ""),
        nlohmann::json({{"matchers", nlohmann::json::array()},
                        {"startsAt", "2026-01-01T00:00:00Z"},
                        {"endsAt", "2026-01-01T01:00:00Z"},
                        {"comment", "c"}})
            .dump()}) {
    HttpAnswer r = a.ask("POST", "/silences", body);
    CHECK(r.status == 400);
    CHECK(r.body.find('\n') == r.body.size() - 1);
  }
  CHECK(nlohmann::json::parse(a.ask("GET", "/silences").body).empty());
}

TEST_CASE("DELETE /silences/ID expires it once", "[silences][loop]") {
  Api a;
  std::string id =
      nlohmann::json::parse(a.ask("POST", "/silences", a.post_body("disk_root")).body)["silenceID"];
  HttpAnswer expired = a.ask("DELETE", "/silences/" + id);
  CHECK(expired.status == 200);
  CHECK(nlohmann::json::parse(expired.body)["state"] == "expired");
  CHECK(a.ask("DELETE", "/silences/" + id).status == 409);
  CHECK(a.ask("DELETE", "/silences/nope").status == 404);
  CHECK(a.ask("DELETE", "/silences/").status == 404);
  CHECK(a.ask("PUT", "/silences/" + id).status == 405);
  CHECK(a.ask("DELETE", "/silences").status == 405);
}

TEST_CASE("a window of the configuration cannot be expired through the API", "[silences][loop]") {
  Api a;
  SilenceConfig c;
  c.name = "backups";
  c.match = {"check=disk_root"};
  c.weekly = "Sun 02:00 2h";
  a.keeper->set_windows({c});
  HttpAnswer r = a.ask("DELETE", "/silences/config:backups");
  CHECK(r.status == 409);
  CHECK(r.body.find("configuration") != std::string::npos);
}

TEST_CASE("POST /incidents/ID/ack acknowledges as the peer, once", "[silences][loop]") {
  Api a;
  CheckChange c;
  c.check = "disk_root";
  c.plugin = "disk";
  c.state = CheckState::kCritical;
  c.changed = c.first = true;
  (void)a.incidents.on_evaluation(c);
  HttpAnswer acked = a.ask("POST", "/incidents/disk_root/ack", R"({"comment": "on it"})");
  REQUIRE(acked.status == 200);
  nlohmann::json rec = nlohmann::json::parse(acked.body);
  CHECK(rec["action"] == "ack");
  CHECK(rec["acknowledged_by"] == user_name(getuid()));
  CHECK(rec["ack_comment"] == "on it");
  CHECK(a.ask("POST", "/incidents/disk_root/ack").status == 409);
  CHECK(a.ask("POST", "/incidents/cpu/ack").status == 404);
  CHECK(a.ask("GET", "/incidents/disk_root/ack").status == 405);
  CHECK(a.ask("POST", "/incidents/disk_root/ack", "[1]").status == 400);
  CHECK(a.ask("POST", "/incidents/disk_root/ack", R"({"comment": 3})").status == 400);
}

TEST_CASE("a uid without a name is named by its number", "[silences][loop]") {
  CHECK(user_name(0) == "root");
  CHECK(user_name(4000000000u) == "uid 4000000000");
}

}  // namespace
}  // namespace vigil
