#include "agent/services/file_watcher_uv.h"

#include <uv.h>

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

// Runs the loop one turn at a time until `done` holds or 10 s of loop time pass.
// A repeating timer bounds each turn, so a missing event cannot hang the test;
// `between` runs before each turn (to keep changing a polled folder).
bool run_until(uv_loop_t* loop, const std::function<bool()>& done,
               const std::function<void()>& between = {}) {
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  uv_timer_start(
      &tick, [](uv_timer_t*) {}, 5, 5);
  uint64_t deadline = uv_now(loop) + 10000;
  while (!done() && uv_now(loop) < deadline) {
    if (between) {
      between();
    }
    uv_run(loop, UV_RUN_ONCE);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return done();
}

TEST_CASE("file watcher reports a change in a watched folder on the loop", "[log]") {
  bool poll = GENERATE(false, true);
  test::TempDir dir;
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    UvFileWatcher watcher(
        &loop, {.coalesce = Duration(1), .poll_interval = Duration(5), .force_poll = poll});
    int calls = 0;
    auto id = watcher.watch(dir.path(), [&] { ++calls; });
    REQUIRE(id.ok());
    CHECK(watcher.polling_count() == (poll ? 1 : 0));
    int n = 0;
    // The fallback compares stat results, so keep changing the folder until it sees one.
    CHECK(run_until(
        &loop, [&] { return calls > 0; },
        [&] { dir.write("f" + std::to_string(n++) + ".log", "x\n"); }));
    watcher.unwatch(id.value());
    CHECK(watcher.watch_count() == 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("file watcher coalesces a burst of writes into few callbacks", "[log]") {
  test::TempDir dir;
  std::string file = dir.write("a.log", "");
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    UvFileWatcher watcher(&loop, {.coalesce = Duration(50)});
    int calls = 0;
    REQUIRE(watcher.watch(file, [&] { ++calls; }).ok());
    for (int i = 0; i < 100; ++i) {
      dir.write("a.log", std::string(static_cast<size_t>(i), 'x'));
    }
    CHECK(run_until(&loop, [&] { return calls > 0; }));
    CHECK(calls < 10);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("file watcher lets a callback unwatch itself", "[log]") {
  test::TempDir dir;
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    UvFileWatcher watcher(&loop, {.coalesce = Duration(1)});
    int calls = 0;
    FileWatcher::WatchId self = 0;
    auto id = watcher.watch(dir.path(), [&] {
      ++calls;
      watcher.unwatch(self);
    });
    REQUIRE(id.ok());
    self = id.value();
    dir.write("x.log", "1\n");
    CHECK(run_until(&loop, [&] { return calls > 0; }));
    CHECK(watcher.watch_count() == 0);
    // A second watch on the same folder witnesses that the next change was delivered.
    int witness = 0;
    REQUIRE(watcher.watch(dir.path(), [&] { ++witness; }).ok());
    dir.write("y.log", "2\n");
    CHECK(run_until(&loop, [&] { return witness > 0; }));
    CHECK(calls == 1);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("file watcher refuses a path that does not exist", "[log]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    UvFileWatcher watcher(&loop);
    auto id = watcher.watch("/nonexistent/vigil/folder", [] {});
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().find("/nonexistent/vigil/folder") != std::string::npos);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace vigil
