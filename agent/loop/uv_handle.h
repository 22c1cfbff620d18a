#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

#include "agent/util/time.h"

namespace vigil {

// Owns one libuv handle whose init succeeded. libuv frees nothing itself: a handle
// must be closed, and its memory released only in the close callback
// (docs/src/design.rst). Handles cannot move, so the owner is neither copyable
// nor movable.
template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  ~UvHandle() { reset(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  // Takes a heap handle after its uv_*_init returned 0.
  void adopt(T* h) {
    reset();
    h_ = h;
  }
  T* get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

  void reset() {
    if (h_ == nullptr) {
      return;
    }
    auto* b = reinterpret_cast<uv_handle_t*>(std::exchange(h_, nullptr));
    b->data = nullptr;  // a late callback must not reach a dead owner
    uv_close(b, [](uv_handle_t* p) { delete reinterpret_cast<T*>(p); });
  }

 private:
  T* h_ = nullptr;
};

// A one-shot or repeating timer that calls a std::function on the loop thread.
class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> callback) : callback_(std::move(callback)) {
    auto* t = new uv_timer_t;
    uv_timer_init(loop, t);  // cannot fail for a valid loop
    t->data = this;
    handle_.adopt(t);
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(Duration timeout, Duration repeat = Duration(0)) {
    uv_timer_start(handle_.get(), &Timer::on_timer, static_cast<uint64_t>(timeout.count()),
                   static_cast<uint64_t>(repeat.count()));
  }
  // Fires at `due` on the monotonic clock, rounded up to libuv's millisecond:
  // timers given the same `due` fire in the same loop turn, whenever each was
  // started. libuv adds the timeout to its cached time, which counts the same
  // clock as std::chrono::steady_clock (CLOCK_MONOTONIC, or its coarse variant
  // when that ticks every millisecond, which lags it by at most a tick): the
  // timer falls due at that millisecond of libuv's clock, never before `due`.
  // A `due` already past waits 1 ms, not 0: libuv 1.44 runs a timer restarted
  // with 0 from its own callback again in the same pass, and a callback that
  // keeps doing so would never let the loop reach I/O.
  void start_at(MonotonicTime due) {
    uv_timer_t* t = handle_.get();
    int64_t due_ms = std::chrono::ceil<std::chrono::milliseconds>(due.time_since_epoch()).count();
    auto now_ms = static_cast<int64_t>(uv_now(t->loop));
    uint64_t timeout = due_ms > now_ms ? static_cast<uint64_t>(due_ms - now_ms) : 1;
    uv_timer_start(t, &Timer::on_timer, timeout, 0);
  }
  void stop() { uv_timer_stop(handle_.get()); }
  bool active() const { return uv_is_active(reinterpret_cast<uv_handle_t*>(handle_.get())) != 0; }

 private:
  static void on_timer(uv_timer_t* t) noexcept {
    auto* self = static_cast<Timer*>(t->data);
    if (self != nullptr) {
      self->callback_();
    }
  }

  std::function<void()> callback_;
  UvHandle<uv_timer_t> handle_;
};

// The monotonic clock now, as MonotonicTime. Not libuv's cached uv_now(): that is
// taken once per loop turn, at millisecond resolution, and a long callback would
// make every deadline computed after it early. The loop argument documents that
// the caller runs on the loop thread.
inline MonotonicTime loop_now(uv_loop_t* loop) {
  (void)loop;
  return std::chrono::steady_clock::now();
}

}  // namespace vigil
