#include "agent/services/file_watcher_uv.h"

#include <uv.h>

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

constexpr std::chrono::seconds kDeadline{10};

TEST_CASE("file watcher reports a change in a watched folder on the loop", "[log]") {
  bool poll = GENERATE(false, true);
  test::TempDir dir;
  test::TestLoop test_loop;
  uv_loop_t* loop = test_loop.get();
  {
    UvFileWatcher watcher(
        loop, {.coalesce = Duration(1), .poll_interval = Duration(5), .force_poll = poll});
    int calls = 0;
    auto id = watcher.watch(dir.path(), [&] { ++calls; });
    REQUIRE(id.ok());
    CHECK(watcher.polling_count() == (poll ? 1 : 0));
    int n = 0;
    // The fallback compares stat results, so keep changing the folder until it sees one.
    CHECK(test_loop.run_until([&] { return calls > 0; }, kDeadline,
                              [&] { dir.write("f" + std::to_string(n++) + ".log", "x\n"); }));
    watcher.unwatch(id.value());
    CHECK(watcher.watch_count() == 0);
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("file watcher coalesces a burst of writes into few callbacks", "[log]") {
  test::TempDir dir;
  std::string file = dir.write("a.log", "");
  test::TestLoop test_loop;
  uv_loop_t* loop = test_loop.get();
  {
    UvFileWatcher watcher(loop, {.coalesce = Duration(50)});
    int calls = 0;
    REQUIRE(watcher.watch(file, [&] { ++calls; }).ok());
    for (int i = 0; i < 100; ++i) {
      dir.write("a.log", std::string(static_cast<size_t>(i), 'x'));
    }
    CHECK(test_loop.run_until([&] { return calls > 0; }, kDeadline));
    CHECK(calls < 10);
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("file watcher lets a callback unwatch itself", "[log]") {
  test::TempDir dir;
  test::TestLoop test_loop;
  uv_loop_t* loop = test_loop.get();
  {
    UvFileWatcher watcher(loop, {.coalesce = Duration(1)});
    int calls = 0;
    FileWatcher::WatchId self = 0;
    auto id = watcher.watch(dir.path(), [&] {
      ++calls;
      watcher.unwatch(self);
    });
    REQUIRE(id.ok());
    self = id.value();
    dir.write("x.log", "1\n");
    CHECK(test_loop.run_until([&] { return calls > 0; }, kDeadline));
    CHECK(watcher.watch_count() == 0);
    // A second watch on the same folder witnesses that the next change was delivered.
    int witness = 0;
    REQUIRE(watcher.watch(dir.path(), [&] { ++witness; }).ok());
    dir.write("y.log", "2\n");
    CHECK(test_loop.run_until([&] { return witness > 0; }, kDeadline));
    CHECK(calls == 1);
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("file watcher refuses a path that does not exist", "[log]") {
  test::TestLoop test_loop;
  uv_loop_t* loop = test_loop.get();
  {
    UvFileWatcher watcher(loop);
    auto id = watcher.watch("/nonexistent/vigil/folder", [] {});
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().find("/nonexistent/vigil/folder") != std::string::npos);
  }
  CHECK(test_loop.close() == 0);
}

}  // namespace
}  // namespace vigil
