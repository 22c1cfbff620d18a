#pragma once

#include <cstdint>
#include <deque>
#include <utility>

#include "agent/util/time.h"

namespace vigil {

// The `matches` of a line-matching plugin (log, journal): the matches its
// collections counted within the last `window`, one entry per collection that
// counted any, so memory grows with collections, never with matches.
class MatchWindow {
 public:
  explicit MatchWindow(Duration window) : window_(window) {}

  // Adds this collection's matches and returns the total within the window.
  uint64_t add(MonotonicTime now, uint64_t matched) {
    if (matched > 0) {
      counts_.emplace_back(now, matched);
    }
    while (!counts_.empty() && counts_.front().first <= now - window_) {
      counts_.pop_front();
    }
    uint64_t total = 0;
    for (const auto& [t, n] : counts_) {
      total += n;
    }
    return total;
  }

 private:
  Duration window_;
  std::deque<std::pair<MonotonicTime, uint64_t>> counts_;
};

}  // namespace vigil
