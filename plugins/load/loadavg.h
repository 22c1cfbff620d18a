#pragma once

#include <string_view>

#include "agent/util/result.h"

// /proc/loadavg: `0.52 0.58 0.59 1/389 12345` (load over 1, 5 and 15 minutes,
// runnable/all tasks, last pid).
namespace vigil {

struct LoadAverage {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
};

// The first three fields; the rest of the line is not needed.
Result<LoadAverage> parse_loadavg(std::string_view text);

}  // namespace vigil
