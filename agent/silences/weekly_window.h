#pragma once

#include <string_view>
#include <utility>

#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// A maintenance window that comes back every week at the same time, in UTC:
// `Sun 02:00 2h` is every Sunday from 02:00 to 04:00 UTC. A window may run past
// midnight and past the end of the week (`Sat 23:00 3h` ends Sunday 02:00).
struct WeeklyWindow {
  int weekday = 0;     // 0 = Sunday … 6 = Saturday
  Duration start{0};   // from midnight UTC of that day
  Duration length{0};  // greater than 0, at most a week

  bool operator==(const WeeklyWindow&) const = default;
};

// `DAY HH:MM DURATION`: DAY `Sun`…`Sat` or `Sunday`…`Saturday` (any case),
// HH:MM from 00:00 to 23:59, DURATION as in the configuration (`90m`, `2h`).
Result<WeeklyWindow> parse_weekly(std::string_view text);

// The occurrence [start, end) that contains `now`, or else the next one to start.
std::pair<SystemTime, SystemTime> weekly_occurrence(const WeeklyWindow& window, SystemTime now);

}  // namespace vigil
