#pragma once

#include <cstdint>
#include <string_view>

#include "agent/util/result.h"

// cgroup v2 CPU files:
//
//   cpu.stat   usage_usec 2814151\nuser_usec 1843224\nsystem_usec 970927\n…
//   cpu.max    QUOTA PERIOD   (`50000 100000` = half a CPU; `max 100000` = no limit)
namespace vigil {

struct CgroupCpuStat {
  uint64_t usage_usec = 0;
  uint64_t user_usec = 0;
  uint64_t system_usec = 0;
};

// All three counters are required; other keys are ignored.
Result<CgroupCpuStat> parse_cgroup_cpu_stat(std::string_view text);

// The CPUs cpu.max allows (QUOTA / PERIOD), or 0 for `max` (no limit).
Result<double> parse_cgroup_cpu_max(std::string_view text);

struct CgroupCpuPercents {
  double usage = 0;
  double user = 0;
  double system = 0;
};

// The shares of `cpus` CPUs used between two readings elapsed_usec apart, each
// clamped to [0, 100] (the two readings are not taken at exactly the instants
// whose difference is elapsed, so a busy cgroup can read a hair over its quota).
// false when the readings give no rate: no time passed, or the counters went
// backwards (the cgroup was recreated).
bool cgroup_cpu_percents(const CgroupCpuStat& prev, const CgroupCpuStat& cur, double elapsed_usec,
                         double cpus, CgroupCpuPercents* out);

}  // namespace vigil
