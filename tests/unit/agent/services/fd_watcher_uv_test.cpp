#include "agent/services/fd_watcher_uv.h"

#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <string>

#include "agent/util/unique_fd.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

constexpr std::chrono::seconds kDeadline{10};

struct Pipe {
  Pipe() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  void put(const char* s) const { REQUIRE(write(write_end.get(), s, strlen(s)) > 0); }
  void drain() const {
    char buf[64];
    while (read(read_end.get(), buf, sizeof buf) > 0) {
    }
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

TEST_CASE("fd watcher calls back when its descriptor becomes readable", "[services][journal]") {
  Pipe p;
  test::TestLoop test_loop;
  {
    UvFdWatcher watcher(test_loop.get());
    int calls = 0;
    auto id = watcher.watch(p.read_end.get(), {}, [&] {
      ++calls;
      p.drain();
    });
    REQUIRE(id.ok());
    // Quiet: a few turns of the loop bring no callback.
    CHECK_FALSE(test_loop.run_until([&] { return calls > 0; }, std::chrono::milliseconds(50)));
    p.put("x");
    CHECK(test_loop.run_until([&] { return calls == 1; }, kDeadline));
    p.put("y");
    CHECK(test_loop.run_until([&] { return calls == 2; }, kDeadline));
    watcher.unwatch(id.value());
    CHECK(watcher.watch_count() == 0);
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("fd watcher keeps calling back while readiness is not consumed", "[services][journal]") {
  Pipe p;
  test::TestLoop test_loop;
  {
    UvFdWatcher watcher(test_loop.get());
    int calls = 0;
    REQUIRE(watcher.watch(p.read_end.get(), {}, [&] { ++calls; }).ok());
    p.put("x");
    CHECK(test_loop.run_until([&] { return calls >= 3; }, kDeadline));
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("fd watcher wakes at its timeout, and again only after an update",
          "[services][journal]") {
  Pipe p;
  test::TestLoop test_loop;
  {
    UvFdWatcher watcher(test_loop.get());
    int calls = 0;
    auto id = watcher.watch(p.read_end.get(), {.timeout = Duration(20)}, [&] { ++calls; });
    REQUIRE(id.ok());
    CHECK(test_loop.run_until([&] { return calls == 1; }, kDeadline));
    // One-shot: without an update nothing more comes.
    CHECK_FALSE(test_loop.run_until([&] { return calls > 1; }, std::chrono::milliseconds(60)));
    // Timeout 0: the next turn of the loop; nothing readable is needed.
    watcher.update(id.value(), {.readable = false, .timeout = Duration(0)});
    CHECK(test_loop.run_until([&] { return calls == 2; }, kDeadline));
    // Not readable, no timeout: a write brings nothing.
    watcher.update(id.value(), {.readable = false, .timeout = std::nullopt});
    p.put("x");
    CHECK_FALSE(test_loop.run_until([&] { return calls > 2; }, std::chrono::milliseconds(50)));
    watcher.update(id.value(), {});
    CHECK(test_loop.run_until([&] { return calls >= 3; }, kDeadline));
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("fd watcher's timeout 0 lets the loop serve others between two callbacks",
          "[services][journal]") {
  Pipe p;
  test::TestLoop test_loop;
  {
    UvFdWatcher watcher(test_loop.get());
    // A reader going through a backlog: every callback asks for the next turn.
    Pipe quiet;
    int slices = 0;
    int slices_when_served = -1;
    FdWatcher::WatchId backlog = 0;
    auto id = watcher.watch(quiet.read_end.get(), {.readable = false, .timeout = Duration(0)}, [&] {
      if (++slices < 100000) {
        watcher.update(backlog, {.readable = false, .timeout = Duration(0)});
      }
    });
    REQUIRE(id.ok());
    backlog = id.value();
    REQUIRE(watcher
                .watch(p.read_end.get(), {},
                       [&] {
                         p.drain();
                         if (slices_when_served < 0) {
                           slices_when_served = slices;
                         }
                       })
                .ok());
    p.put("x");
    CHECK(test_loop.run_until([&] { return slices_when_served >= 0; }, kDeadline));
    CHECK(slices_when_served < 10);
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("fd watcher lets a callback unwatch itself and watch a new descriptor",
          "[services][journal]") {
  Pipe first;
  Pipe second;
  test::TestLoop test_loop;
  {
    UvFdWatcher watcher(test_loop.get());
    int first_calls = 0;
    int second_calls = 0;
    FdWatcher::WatchId self = 0;
    auto id = watcher.watch(first.read_end.get(), {}, [&] {
      ++first_calls;
      watcher.unwatch(self);
      // What a journal reader does when it re-opens: the old descriptor goes,
      // the new one is watched, from inside the callback.
      first.read_end.reset();
      REQUIRE(watcher
                  .watch(second.read_end.get(), {},
                         [&] {
                           ++second_calls;
                           second.drain();
                         })
                  .ok());
    });
    REQUIRE(id.ok());
    self = id.value();
    first.put("x");
    CHECK(test_loop.run_until([&] { return first_calls == 1; }, kDeadline));
    second.put("y");
    CHECK(test_loop.run_until([&] { return second_calls == 1; }, kDeadline));
    CHECK(first_calls == 1);
    CHECK(watcher.watch_count() == 1);
  }
  CHECK(test_loop.close() == 0);
}

TEST_CASE("fd watcher refuses a descriptor epoll cannot poll", "[services][journal]") {
  test::TempDir dir;
  std::string path = dir.write("plain", "x");
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.get() >= 0);
  test::TestLoop test_loop;
  {
    UvFdWatcher watcher(test_loop.get());
    auto id = watcher.watch(fd.get(), {}, [] {});
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().find("cannot poll descriptor") != std::string::npos);
    CHECK(watcher.watch_count() == 0);
  }
  CHECK(test_loop.close() == 0);
}

}  // namespace
}  // namespace vigil
