#include "agent/loop/check_runner.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/test_loop.h"

namespace vigil {
namespace {

using std::chrono::milliseconds;

Result<std::unique_ptr<Collector>> no_create(const PluginConfig&) { return make_error("not used"); }

const Plugin kInlinePlugin{
    .name = "test_inline", .keys = {}, .metrics = {}, .may_block = false, .create = &no_create};
const Plugin kBlockingPlugin{
    .name = "test_blocking", .keys = {}, .metrics = {}, .may_block = true, .create = &no_create};

CheckConfig check(const std::string& name, const Plugin& plugin, milliseconds interval,
                  milliseconds timeout) {
  CheckConfig c;
  c.name = name;
  c.plugin = std::string(plugin.name);
  c.plugin_def = &plugin;
  c.interval = interval;
  c.timeout = timeout;
  return c;
}

struct Outcome {
  bool ok = false;
  double value = 0;
  std::string error;
  MonotonicTime scheduled{};
};

// Collects what a runner reports.
struct Results {
  std::vector<Outcome> all;
  CheckRunner::ResultFn fn() {
    return [this](Result<Sample> r, MonotonicTime scheduled) {
      Outcome o;
      o.ok = r.ok();
      o.scheduled = scheduled;
      if (r.ok()) {
        const double* v = r.value().find("call");
        o.value = v != nullptr ? *v : -1;
      } else {
        o.error = r.error();
      }
      all.push_back(std::move(o));
    };
  }
  size_t failures() const {
    size_t n = 0;
    for (const Outcome& o : all) {
      n += o.ok ? 0 : 1;
    }
    return n;
  }
};

// Reports the number of the call as metric `call`, at once, on the loop thread.
class CountingCollector : public Collector {
 public:
  Result<Sample> read(const CollectContext&) override {
    Sample s;
    s.set("call", ++calls);
    return s;
  }
  int calls = 0;
};

class ThrowingCollector : public Collector {
 public:
  Result<Sample> read(const CollectContext&) override { throw std::runtime_error("boom"); }
};

// Keeps `done` and never calls it unless the test does.
class SilentCollector : public Collector {
 public:
  void collect(const CollectContext&, CollectDone done) override {
    ++calls;
    pending = std::move(done);
  }
  int calls = 0;
  CollectDone pending;
};

// A blocking read that waits on a gate the test opens, as a hung statvfs would
// until its server comes back. The destructor opens it and waits for readers to
// leave, so that a failed test does not leave a pool thread stuck.
class Gate {
 public:
  ~Gate() {
    open();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return inside_ == 0; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void pass() {
    std::unique_lock<std::mutex> lock(mu_);
    ++inside_;
    cv_.wait(lock, [this] { return open_; });
    --inside_;
    cv_.notify_all();
  }
  bool someone_waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return inside_ > 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int inside_ = 0;
};

class BlockingCollector : public Collector {
 public:
  explicit BlockingCollector(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  Result<Sample> read(const CollectContext&) override {
    int call = ++calls;
    gate_->pass();
    Sample s;
    s.set("call", call);
    return s;
  }
  std::atomic<int> calls{0};

 private:
  std::shared_ptr<Gate> gate_;
};

}  // namespace

TEST_CASE("check runner reports an inline collector's result every interval", "[check_runner]") {
  test::TestLoop loop;
  auto collector = std::make_shared<CountingCollector>();
  Results results;
  MonotonicTime anchor = loop_now(loop.get());
  {
    CheckRunner runner(loop.get(), real_clock(),
                       check("c", kInlinePlugin, milliseconds(100), milliseconds(100)), collector,
                       CollectContext{}, results.fn());
    runner.start(anchor);
    REQUIRE(loop.run_until([&] { return results.all.size() >= 4; }));
    runner.stop();
  }
  REQUIRE(results.all.size() >= 4);
  for (size_t i = 0; i < results.all.size(); ++i) {
    INFO("result " << i << ": " << results.all[i].error);
    CHECK(results.all[i].ok);
    CHECK(results.all[i].value == static_cast<double>(i + 1));
    if (i > 0) {
      // The first at once, the others on the anchor's beat: an interval apart
      // (more, if the machine fell behind).
      CHECK((results.all[i].scheduled - anchor) % milliseconds(100) == std::chrono::nanoseconds(0));
      CHECK(results.all[i].scheduled > results.all[i - 1].scheduled);
    }
  }
  CHECK(collector->calls == static_cast<int>(results.all.size()));
  CHECK(loop.close() == 0);
}

TEST_CASE("check runner reports a collector that throws as a failed collection", "[check_runner]") {
  const Plugin& plugin = GENERATE(std::cref(kInlinePlugin), std::cref(kBlockingPlugin));
  INFO(plugin.name);
  test::TestLoop loop;
  Results results;
  {
    CheckRunner runner(loop.get(), real_clock(),
                       check("c", plugin, milliseconds(100), milliseconds(1000)),
                       std::make_shared<ThrowingCollector>(), CollectContext{}, results.fn());
    runner.start(loop_now(loop.get()));
    REQUIRE(loop.run_until([&] { return results.all.size() >= 2; }));
  }
  for (const Outcome& o : results.all) {
    CHECK_FALSE(o.ok);
    CHECK(o.error.find("boom") != std::string::npos);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("check runner fails an async collection that never reports, and drops its late result",
          "[check_runner]") {
  test::TestLoop loop;
  auto collector = std::make_shared<SilentCollector>();
  Results results;
  {
    CheckRunner runner(loop.get(), real_clock(),
                       check("c", kInlinePlugin, milliseconds(300), milliseconds(100)), collector,
                       CollectContext{}, results.fn());
    auto started = std::chrono::steady_clock::now();
    runner.start(loop_now(loop.get()));
    REQUIRE(loop.run_until([&] { return !results.all.empty(); }));
    // libuv times from its cached millisecond clock, which may lag `started`.
    CHECK(std::chrono::steady_clock::now() - started >= milliseconds(95));
    REQUIRE(results.all.size() == 1);
    CHECK_FALSE(results.all[0].ok);
    CHECK(results.all[0].error.find("timed out") != std::string::npos);

    // The forgotten call answers late: nothing is reported for it.
    REQUIRE(collector->pending);
    CollectDone late = std::move(collector->pending);
    collector->pending = nullptr;
    Sample s;
    s.set("call", 1);
    late(s);
    CHECK(results.all.size() == 1);

    // The next run is a new call, and its answer is reported.
    REQUIRE(loop.run_until([&] { return collector->calls >= 2 && collector->pending; }));
    Sample s2;
    s2.set("call", 2);
    std::exchange(collector->pending, nullptr)(s2);
    REQUIRE(results.all.size() == 2);
    CHECK(results.all[1].ok);
    CHECK(results.all[1].value == 2);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("check runner skips runs while a blocking call is stuck, counting each as a failure",
          "[check_runner]") {
  test::TestLoop loop;
  auto gate = std::make_shared<Gate>();
  auto stuck = std::make_shared<BlockingCollector>(gate);
  auto other = std::make_shared<CountingCollector>();
  Results stuck_results, other_results;
  {
    CheckRunner runner(loop.get(), real_clock(),
                       check("nfs", kBlockingPlugin, milliseconds(200), milliseconds(100)), stuck,
                       CollectContext{}, stuck_results.fn());
    CheckRunner neighbour(loop.get(), real_clock(),
                          check("cpu", kInlinePlugin, milliseconds(100), milliseconds(100)), other,
                          CollectContext{}, other_results.fn());
    runner.start(loop_now(loop.get()));
    neighbour.start(loop_now(loop.get()));

    // The first call times out, then three runs fall due while it hangs.
    REQUIRE(loop.run_until([&] { return stuck_results.all.size() >= 4; }));
    CHECK(stuck_results.failures() == stuck_results.all.size());
    CHECK(stuck_results.all[0].error.find("timed out") != std::string::npos);
    for (size_t i = 1; i < stuck_results.all.size(); ++i) {
      CHECK(stuck_results.all[i].error.find("skipped") != std::string::npos);
      CHECK(stuck_results.all[i].scheduled > stuck_results.all[i - 1].scheduled);
    }
    CHECK(stuck->calls == 1);  // no second call while the first one hangs
    CHECK(gate->someone_waiting());
    // The other check kept its schedule meanwhile (over 600 ms at 100 ms), each
    // run a success.
    CHECK(other_results.all.size() >= 4);
    CHECK(other_results.failures() == 0);

    // Released, the stuck call returns; its late result is dropped, and the next
    // run is a fresh call that succeeds.
    size_t before = stuck_results.all.size();
    gate->open();
    REQUIRE(
        loop.run_until([&] { return !stuck_results.all.empty() && stuck_results.all.back().ok; }));
    CHECK(stuck->calls == 2);
    for (size_t i = before; i < stuck_results.all.size(); ++i) {
      CHECK(stuck_results.all[i].value != 1);  // never the timed-out call's reading
    }
    CHECK(stuck_results.all.back().value == 2);
    runner.stop();
    neighbour.stop();
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("check runner reports nothing after stop", "[check_runner]") {
  test::TestLoop loop;
  auto collector = std::make_shared<CountingCollector>();
  Results results;
  {
    CheckRunner runner(loop.get(), real_clock(),
                       check("c", kInlinePlugin, milliseconds(50), milliseconds(50)), collector,
                       CollectContext{}, results.fn());
    runner.start(loop_now(loop.get()));
    REQUIRE(loop.run_until([&] { return results.all.size() >= 1; }));
    runner.stop();
    size_t n = results.all.size();
    // Several intervals pass; the deadline ends the wait.
    CHECK_FALSE(loop.run_until([&] { return results.all.size() > n; }, milliseconds(300)));
  }
  CHECK(loop.close() == 0);
}

}  // namespace vigil

namespace vigil {

TEST_CASE("check runners of one anchor and interval run in the same loop turn", "[check_runner]") {
  // One wake-up for all the checks of an interval, not one each: a check
  // started later (at a reload) runs at once, then on the others' beat.
  test::TestLoop loop;
  struct Run {
    std::string name;
    int turn;
    MonotonicTime scheduled;
  };
  std::vector<Run> runs;
  int turn = 0;
  auto record = [&](const std::string& name) {
    return [&runs, &turn, name](Result<Sample>, MonotonicTime scheduled) {
      runs.push_back({name, turn, scheduled});
    };
  };
  auto count = [&](const std::string& name) {
    return std::count_if(runs.begin(), runs.end(), [&](const Run& r) { return r.name == name; });
  };
  auto nth = [&](const std::string& name, int n) {
    for (const Run& r : runs) {
      if (r.name == name && n-- == 0) {
        return r;
      }
    }
    FAIL("no run " << n << " of " << name);
    return Run{};
  };
  auto between = [&] { ++turn; };
  const milliseconds interval(200);
  MonotonicTime anchor = loop_now(loop.get());
  {
    auto make = [&](const std::string& name) {
      return std::make_unique<CheckRunner>(
          loop.get(), real_clock(), check(name, kInlinePlugin, interval, interval),
          std::make_shared<CountingCollector>(), CollectContext{}, record(name));
    };
    auto a = make("a");
    auto b = make("b");
    a->start(anchor);
    b->start(anchor);
    REQUIRE(loop.run_until([&] { return loop_now(loop.get()) >= anchor + milliseconds(90); },
                           std::chrono::seconds(20), between));
    auto late = make("late");
    late->start(anchor);
    REQUIRE(loop.run_until([&] { return count("late") >= 3; }, std::chrono::seconds(20), between));
  }
  CHECK(loop.close() == 0);
  CHECK(nth("a", 0).turn == nth("b", 0).turn);
  for (int k = 1; k < count("a"); ++k) {
    INFO("run " << k);
    CHECK((nth("a", k).scheduled - anchor) % interval == std::chrono::nanoseconds(0));
    CHECK(nth("b", k).scheduled == nth("a", k).scheduled);
    CHECK(nth("b", k).turn == nth("a", k).turn);
  }
  // The late one ran at once, off the beat, then with the others, but not
  // sooner than half an interval after its first run.
  CHECK((nth("late", 0).scheduled - anchor) % interval != std::chrono::nanoseconds(0));
  CHECK(nth("late", 1).scheduled - nth("late", 0).scheduled >= interval / 2);
  for (int k = 1; k < 3; ++k) {
    INFO("late run " << k);
    auto same = std::find_if(runs.begin(), runs.end(), [&](const Run& r) {
      return r.name == "a" && r.scheduled == nth("late", k).scheduled;
    });
    REQUIRE(same != runs.end());
    CHECK(same->turn == nth("late", k).turn);
  }
}

TEST_CASE("a check runner with an interval of centuries runs once and holds up nothing",
          "[check_runner]") {
  // Far past the clock's range: the next run must not wrap to the past, where
  // a timer restarted from its own callback would spin the loop for ever.
  test::TestLoop loop;
  Results rare;
  Results often;
  {
    MonotonicTime anchor = loop_now(loop.get());
    CheckConfig centuries = check("rare", kInlinePlugin, milliseconds(0), milliseconds(100));
    centuries.interval = std::chrono::duration_cast<Duration>(std::chrono::hours(24) * 400000);
    CheckRunner a(loop.get(), real_clock(), centuries, std::make_shared<CountingCollector>(),
                  CollectContext{}, rare.fn());
    CheckRunner b(loop.get(), real_clock(),
                  check("often", kInlinePlugin, milliseconds(50), milliseconds(50)),
                  std::make_shared<CountingCollector>(), CollectContext{}, often.fn());
    a.start(anchor);
    b.start(anchor);
    CHECK(loop.run_until([&] { return often.all.size() >= 4; }));
  }
  CHECK(loop.close() == 0);
  CHECK(rare.all.size() == 1);
}

}  // namespace vigil
