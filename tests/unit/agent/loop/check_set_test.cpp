#include "agent/loop/check_set.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "agent/config/loader.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

const std::string kProcfs = std::string(VIGIL_SOURCE_DIR) + "/plugins/load/testcases/normal";

// Checks as the loader makes them from INI text: real plugins, real rules.
std::vector<CheckConfig> checks(const test::TempDir& dir, const std::string& ini) {
  std::string path = dir.write("vigil.ini", "[agent]\nprocfs = " + kProcfs + "\n" + ini);
  LoadResult r = load_config(path);
  REQUIRE(r.errors.empty());
  return r.config->checks;
}

struct Fixture {
  explicit Fixture(const test::TempDir& dir)
      : set(std::make_unique<CheckSet>(loop.get(), clock,
                                       CheckSet::Host{kProcfs, "/sys", dir.path(), nullptr},
                                       [this](CheckSlot& slot, const Evaluation& eval, double) {
                                         REQUIRE(eval.state.has_value());
                                         seen[slot.config.name] = *eval.state;
                                         slot.state = eval.state;  // as the agent records it
                                       })) {}
  ~Fixture() {
    set.reset();
    CHECK(loop.close() == 0);
  }
  test::TestLoop loop;
  ManualClock clock;
  std::map<std::string, CheckState> seen;
  std::unique_ptr<CheckSet> set;
};

TEST_CASE("check set starts enabled checks and evaluates their samples", "[check_set]") {
  test::TempDir dir;
  Fixture f(dir);
  f.set->start(checks(dir,
                      "[load busy]\ninterval = 50ms\ncritical = load1 > 0\n"
                      "[load idle]\ninterval = 50ms\ncritical = load1 > 1000\n"
                      "[load off]\nenabled = false\n"));
  REQUIRE(f.loop.run_until([&] { return f.seen.size() == 2; }));
  CHECK(f.seen["busy"] == CheckState::kCritical);
  CHECK(f.seen["idle"] == CheckState::kOk);
  CHECK(f.set->slots().size() == 2);
  CHECK_FALSE(f.set->has("off"));
  CHECK(std::filesystem::is_directory(dir.file("checks/busy")));
  // The time of a run is the clock the set was given, not the host's.
  CHECK(f.set->slots()[0]->last_run == f.clock.wall());
}

TEST_CASE("check set keeps saved states of its checks and of checks not running", "[check_set]") {
  test::TempDir dir;
  Fixture f(dir);
  SystemTime then = from_millis(1795526000000);
  f.set->restore({{"busy", SavedCheck{"load", CheckState::kWarning, then}},
                  {"moved", SavedCheck{"cpu", CheckState::kCritical, then}},
                  {"other", SavedCheck{"disk", CheckState::kCritical, then}}});
  f.set->start(checks(dir, "[load busy]\ninterval = 1h\n[cpu moved]\ninterval = 1h\n"));
  const CheckSlot& busy = *f.set->slots()[0];
  CHECK(busy.state == CheckState::kWarning);  // same name and plugin: its own state back
  CHECK(busy.since == then);
  std::map<std::string, SavedCheck> out;
  f.set->save_into(out, from_millis(1795526999000));
  CHECK(out.at("busy").state == CheckState::kWarning);
  CHECK(out.at("other").state == CheckState::kCritical);  // not configured: kept
  CHECK(out.at("moved").plugin == "cpu");                 // its own, not the saved one's
  CHECK(out.count("moved") == 1);
}

TEST_CASE("check set reload keeps unchanged checks, restarts changed ones, names removed ones",
          "[check_set]") {
  test::TempDir dir;
  Fixture f(dir);
  f.set->start(checks(dir,
                      "[load keep]\ninterval = 50ms\ncritical = load1 > 0\n"
                      "[load change]\ninterval = 50ms\n[load drop]\ninterval = 50ms\n"));
  REQUIRE(f.loop.run_until([&] { return f.seen.size() == 3; }));
  const CheckSlot* keep = f.set->slots()[0].get();
  const CheckRunner* keep_runner = keep->runner.get();
  std::vector<std::string> removed =
      f.set->apply(checks(dir,
                          "[load keep]\ninterval = 50ms\ncritical = load1 > 0\n"
                          "[load change]\ninterval = 60ms\n[load new]\ninterval = 50ms\n"));
  CHECK(removed == std::vector<std::string>{"drop"});
  REQUIRE(f.set->slots().size() == 3);
  CHECK(f.set->slots()[0].get() == keep);
  CHECK(keep->runner.get() == keep_runner);  // not restarted
  CHECK(keep->state == CheckState::kCritical);
  CHECK(f.set->slots()[1]->config.interval == Duration(60));
  f.seen.erase("new");
  REQUIRE(f.loop.run_until([&] { return f.seen.count("new") == 1; }));
}

TEST_CASE("check set reports nothing once stopped", "[check_set]") {
  test::TempDir dir;
  Fixture f(dir);
  f.set->start(checks(dir, "[load a]\ninterval = 20ms\n"));
  REQUIRE(f.loop.run_until([&] { return f.seen.size() == 1; }));
  f.set->stop();
  f.seen.clear();
  // Several intervals pass: no evaluation arrives.
  f.loop.run_until([] { return false; }, std::chrono::milliseconds(100));
  CHECK(f.seen.empty());
}

}  // namespace
}  // namespace vigil
