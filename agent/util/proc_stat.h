#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/util/result.h"

// The CPU lines of /proc/stat:
//
//   cpu  user nice system idle iowait irq softirq steal guest guest_nice
//   cpu0 …
//   cpu1 …
//   intr …
//
// in USER_HZ ticks since boot. Kernels before 2.6 print only the first four
// columns, before 2.6.11 no steal, before 2.6.24 no guest: missing columns read
// as 0. A CPU taken offline loses its line (cpu0, cpu2, cpu3).
namespace vigil {

struct CpuTimes {
  uint64_t user = 0;
  uint64_t nice = 0;
  uint64_t system = 0;
  uint64_t idle = 0;
  uint64_t iowait = 0;
  uint64_t irq = 0;
  uint64_t softirq = 0;
  uint64_t steal = 0;
  uint64_t guest = 0;
  uint64_t guest_nice = 0;

  bool operator==(const CpuTimes&) const = default;
};

struct ProcStat {
  CpuTimes cpu;       // the aggregate `cpu` line
  int cpu_count = 0;  // `cpuN` lines, when counted
};

// Fed one line at a time, so that the collector streams the file through a
// small buffer and stops reading after the CPU lines.
class ProcStatParser {
 public:
  explicit ProcStatParser(bool count_cpus) : count_cpus_(count_cpus) {}
  // false once the parser needs no more lines.
  bool feed(std::string_view line);
  // The error names no file: callers add it.
  Result<ProcStat> finish() const;

 private:
  bool count_cpus_;
  bool seen_total_ = false;
  bool failed_ = false;
  std::string error_;
  ProcStat stat_;
};

// Parses the text of /proc/stat. The unterminated last line of a cut file is
// ignored. count_cpus also counts the `cpuN` lines, which means reading past the
// aggregate line.
Result<ProcStat> parse_proc_stat(std::string_view text, bool count_cpus);
// Reads and parses a /proc/stat file; errors name it.
Result<ProcStat> read_proc_stat(const std::string& path, bool count_cpus);

// Shares of CPU time in percent, each in [0, 100].
struct CpuPercents {
  double usage = 0;   // (total − idle − iowait) / total
  double user = 0;    // user (which includes guest), not nice
  double system = 0;  // system, not irq or softirq
  double iowait = 0;
  double steal = 0;
};

// The shares over the time between prev and cur, or since boot when prev is
// null. When the counters went backwards (the machine behind a procfs changed, a
// counter wrapped) or no tick passed between the readings, the shares are those
// since boot of cur. A single column going backwards (iowait does on some
// kernels) counts as no time spent in it. Never NaN or infinite.
CpuPercents cpu_percents(const CpuTimes* prev, const CpuTimes& cur);

}  // namespace vigil
