#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace vigil {

// Durations, timers, windows and backoff run on the monotonic clock; only record
// timestamps use the wall clock (an agent that timed on the wall clock went silent
// for hours after a clock step: wazuh #36260).
using Duration = std::chrono::milliseconds;
using MonotonicTime = std::chrono::steady_clock::time_point;
using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonotonicTime monotonic() const = 0;
  virtual SystemTime wall() const = 0;
};

class RealClock final : public Clock {
 public:
  MonotonicTime monotonic() const override { return std::chrono::steady_clock::now(); }
  SystemTime wall() const override { return std::chrono::system_clock::now(); }
};

// The host's clocks, for whatever takes a Clock outside the tests.
const Clock& real_clock();

// A clock that moves only when told: unit tests run hours of life in microseconds.
class ManualClock final : public Clock {
 public:
  ManualClock() : mono_(std::chrono::hours(1000)), wall_(std::chrono::seconds(1795000000)) {}
  MonotonicTime monotonic() const override { return mono_; }
  SystemTime wall() const override { return wall_; }
  void advance(Duration d) {
    mono_ += d;
    wall_ += d;
  }
  void jump_wall(Duration d) { wall_ += d; }  // a wall-clock step: monotonic stays

 private:
  MonotonicTime mono_;
  SystemTime wall_;
};

// RFC 3339 UTC with milliseconds: 2026-11-24T13:15:02.123Z.
std::string format_rfc3339(SystemTime t);
// Dead-letter file stamp: 20261124T131502.123Z.
std::string format_compact_utc(SystemTime t);
// Parses RFC 3339: what format_rfc3339 writes, with or without a fraction of a
// second, with `Z` or an offset (`+02:00`); false when malformed.
bool parse_rfc3339(const std::string& text, SystemTime* out);

inline int64_t to_millis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline SystemTime from_millis(int64_t ms) { return SystemTime(std::chrono::milliseconds(ms)); }
inline double to_seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace vigil
