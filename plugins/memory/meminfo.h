#pragma once

#include <cstdint>
#include <string_view>

#include "agent/util/result.h"

// /proc/meminfo, one `Key:   value kB` line per figure:
//
//   MemTotal:       16318480 kB
//   MemFree:         1234567 kB
//   MemAvailable:    9876543 kB     (since Linux 3.14)
//   …
//   SwapTotal:       2097148 kB     (0, or absent, without swap)
//   SwapFree:        2097148 kB
namespace vigil {

struct MemInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
  uint64_t swap_total_bytes = 0;
  uint64_t swap_free_bytes = 0;
  bool has_total = false;
  bool has_available = false;
};

// Reads the four figures the plugin uses; other lines are ignored. A garbage
// number in one of them is an error; so is a missing or zero MemTotal. The
// unterminated last line of a cut file is ignored.
Result<MemInfo> parse_meminfo(std::string_view text);

// The memory plugin's metrics.
struct MemoryFigures {
  double used_percent = 0;
  double available_bytes = 0;
  double available_percent = 0;
  double swap_used_percent = 0;
};

// 100·(SwapTotal − SwapFree)/SwapTotal, 0 without swap.
double swap_used_percent(const MemInfo& info);

// Host figures: 100·(MemTotal − MemAvailable)/MemTotal and so on. Fails without
// MemAvailable (kernels before 3.14): MemFree would overstate use badly.
Result<MemoryFigures> host_memory(const MemInfo& info);

}  // namespace vigil
