#include "agent/loop/silence_keeper.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent/services/pool_file_saver.h"
#include "agent/silences/silence_json.h"
#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

// The silences on a real loop: the timer at a silence's end, the file off the loop.
namespace vigil {
namespace {

struct Keeper {
  test::TempDir dir;
  test::TestLoop loop;
  IncidentManager incidents{real_clock(), "web1"};
  std::vector<Record> emitted;
  std::unique_ptr<PoolFileSaver> saver = std::make_unique<PoolFileSaver>(loop.get());
  std::unique_ptr<SilenceKeeper> keeper = std::make_unique<SilenceKeeper>(
      loop.get(), real_clock(), incidents, dir.path(), *saver, [this](std::vector<Record> r) {
        for (Record& x : r) {
          emitted.push_back(std::move(x));
        }
      });

  ~Keeper() {
    keeper.reset();
    saver.reset();
    CHECK(loop.close() == 0);
  }

  void open_incident(const std::string& check) {
    CheckChange c;
    c.check = check;
    c.plugin = "exec";
    c.state = CheckState::kCritical;
    c.changed = true;
    c.first = true;
    for (Record& r : incidents.on_evaluation(c)) {
      emitted.push_back(std::move(r));
    }
  }

  Silence silence(const char* matcher, Duration length, bool expire_on_resolve = false) {
    Silence s;
    s.matchers.push_back(*parse_matcher(matcher));
    s.starts_at = std::chrono::system_clock::now();
    s.ends_at = s.starts_at + length;
    s.created_by = "alice";
    s.comment = "work";
    s.expire_on_resolve = expire_on_resolve;
    return s;
  }

  std::vector<nlohmann::json> updates() const {
    std::vector<nlohmann::json> out;
    for (const Record& r : emitted) {
      auto j = nlohmann::json::parse(r.json);
      if (j["action"] == "update") {
        out.push_back(j);
      }
    }
    return out;
  }
};

TEST_CASE("a silence's end unmutes its open incident at once, by the keeper's timer",
          "[silences][loop]") {
  Keeper k;
  k.keeper->start();
  REQUIRE(k.keeper->add(k.silence("check=disk_root", std::chrono::milliseconds(150))).ok());
  SystemTime ends = k.keeper->list().at(0).ends_at;
  k.open_incident("disk_root");
  REQUIRE(k.emitted.size() == 1);
  CHECK(k.emitted[0].silenced);
  REQUIRE(k.loop.run_until([&] { return k.updates().size() == 1; }));
  CHECK(k.updates()[0]["silenced"] == false);
  SystemTime at;
  REQUIRE(parse_rfc3339(k.updates()[0]["time"].get<std::string>(), &at));
  CHECK(at >= ends);                           // not before the end
  CHECK(at < ends + std::chrono::seconds(1));  // and at once after it
}

TEST_CASE("a silence added over an open incident mutes it, and is saved off the loop",
          "[silences][loop]") {
  Keeper k;
  k.keeper->start();
  k.open_incident("disk_root");
  Result<std::string> id = k.keeper->add(k.silence("check=disk_root", std::chrono::hours(1)));
  REQUIRE(id.ok());
  REQUIRE(k.updates().size() == 1);
  CHECK(k.updates()[0]["silenced"] == true);
  CHECK(k.updates()[0]["silence_ids"] == nlohmann::json::array({*id}));
  std::string path = k.dir.file("silences.json");
  REQUIRE(k.loop.run_until([&] { return k.saver->busy() == 0 && read_file(path).ok(); }));
  Result<std::vector<Silence>> saved = parse_silences_document(read_file(path).value());
  REQUIRE(saved.ok());
  REQUIRE(saved->size() == 1);
  CHECK(saved->front().id == *id);
  // Expired, it is saved as expired.
  REQUIRE(k.keeper->expire(*id) == SilenceSet::Expiry::kExpired);
  CHECK(k.updates().size() == 2);
  REQUIRE(k.loop.run_until([&] {
    auto again = parse_silences_document(read_file(path).value());
    return k.saver->busy() == 0 && again.ok() &&
           again->front().state(std::chrono::system_clock::now()) == SilenceState::kExpired;
  }));
}

TEST_CASE("silences.json is read at start; a damaged one is set aside", "[silences][loop]") {
  SECTION("read back") {
    Keeper k;
    Silence s = k.silence("check=disk_root", std::chrono::hours(1));
    s.id = "11111111-2222-4333-8444-555555555555";
    s.updated_at = s.starts_at;
    k.dir.write("silences.json", silences_document({s}));
    CHECK(k.keeper->load() == 0);
    k.keeper->start();
    k.open_incident("disk_root");
    CHECK(k.emitted.at(0).silenced);
    CHECK(k.keeper->list().size() == 1);
  }
  SECTION("set aside") {
    Keeper k;
    k.dir.write("silences.json", "{\"version\": 1, \"silences\": [{\"id\": 3}]}");
    CHECK(k.keeper->load() == 1);
    CHECK_FALSE(std::filesystem::exists(k.dir.file("silences.json")));
    bool aside = false;
    for (const auto& e : std::filesystem::directory_iterator(k.dir.path())) {
      aside = aside || e.path().filename().string().rfind("silences.json.corrupt-", 0) == 0;
    }
    CHECK(aside);
    CHECK(k.keeper->list().empty());
  }
  SECTION("none") {
    Keeper k;
    CHECK(k.keeper->load() == 0);
    CHECK(k.keeper->list().empty());
  }
}

TEST_CASE("a window of the configuration mutes while open and is not saved", "[silences][loop]") {
  Keeper k;
  SilenceConfig c;
  c.name = "now";
  c.match = {"check=disk_root"};
  c.comment = "window";
  SystemTime now = std::chrono::system_clock::now();
  c.starts = format_rfc3339(now - std::chrono::minutes(1));
  c.ends = format_rfc3339(now + std::chrono::milliseconds(200));
  k.keeper->set_windows({c});
  k.keeper->start();
  k.open_incident("disk_root");
  CHECK(k.emitted.at(0).silenced);
  REQUIRE(k.loop.run_until([&] { return k.updates().size() == 1; }));
  CHECK(k.updates()[0]["silenced"] == false);
  CHECK(k.saver->busy() == 0);
  CHECK_FALSE(std::filesystem::exists(k.dir.file("silences.json")));
  // A reload that removes the window changes nothing more.
  k.keeper->set_windows({});
  CHECK(k.updates().size() == 1);
}

}  // namespace
}  // namespace vigil
