#pragma once

#include <uv.h>

#include <chrono>
#include <functional>

namespace vigil::test {

// A real libuv loop for tests: run until a predicate holds or a deadline
// passes (never a sleep), then close as libuv's MAKE_VALGRIND_HAPPY does.
class TestLoop {
 public:
  TestLoop() { uv_loop_init(&loop_); }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

  // A ticking timer wakes UV_RUN_ONCE so that the deadline is checked even
  // when nothing else happens. `between` runs before each turn (a test that
  // keeps changing a polled folder).
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds deadline = std::chrono::seconds(20),
                 const std::function<void()>& between = {}) {
    auto end = std::chrono::steady_clock::now() + deadline;
    uv_timer_t tick;
    uv_timer_init(&loop_, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 5, 5);
    while (!done() && std::chrono::steady_clock::now() < end) {
      if (between) {
        between();
      }
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close callback before tick goes
    return done();
  }

  // Runs what is left (close callbacks), then closes the loop: 0 when every
  // handle was closed.
  int close() {
    uv_run(&loop_, UV_RUN_DEFAULT);
    return uv_loop_close(&loop_);
  }

 private:
  uv_loop_t loop_;
};

}  // namespace vigil::test
