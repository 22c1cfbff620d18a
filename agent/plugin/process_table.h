#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// What a scan reads besides /proc/PID/stat, which it always reads. Each extra
// file costs one open/read/close per process, so a scan reads only what some
// process check asked for.
struct ProcessScanNeeds {
  bool uid = false;      // /proc/PID/status (the `user` criterion)
  bool cmdline = false;  // /proc/PID/cmdline (the `cmdline` criterion)

  bool covers(const ProcessScanNeeds& other) const {
    return (uid || !other.uid) && (cmdline || !other.cmdline);
  }
  void add(const ProcessScanNeeds& other) {
    uid = uid || other.uid;
    cmdline = cmdline || other.cmdline;
  }
};

// One process as one scan saw it.
struct ProcessInfo {
  int pid = 0;
  int ppid = 0;
  std::string comm;          // at most 15 bytes; may hold spaces and parentheses
  char state = '?';          // R, S, D, Z (zombie) …
  uint64_t cpu_ticks = 0;    // utime + stime, in clock ticks
  uint64_t start_ticks = 0;  // start time, in clock ticks since boot
  int64_t threads = 0;
  int64_t rss_pages = 0;
  int64_t uid = -1;     // the real uid; -1 when the scan did not read it
  std::string cmdline;  // arguments joined by spaces; empty when not read (or a kernel thread)
};

// A whole scan of a procfs root. Shared and never changed once made, so a
// collector may keep one while the table makes the next.
struct ProcessSnapshot {
  std::vector<ProcessInfo> processes;  // thread-group leaders, in pid order
  MonotonicTime taken{};               // the `now` the scan was made for
  double uptime_seconds = 0;           // host uptime at the scan (<procfs>/uptime)
  long ticks_per_second = 100;         // sysconf(_SC_CLK_TCK)
  long page_size = 4096;               // sysconf(_SC_PAGESIZE)
  ProcessScanNeeds read;               // what this scan read beyond stat
};

using ProcessSnapshotPtr = std::shared_ptr<const ProcessSnapshot>;

// One scan of procfs serves every process check: each collection asks for a
// snapshot no older than max_age (half its interval), and the table rescans
// only when the last one is older, or lacks something the caller needs.
class ProcessTable {
 public:
  virtual ~ProcessTable() = default;
  virtual Result<ProcessSnapshotPtr> snapshot(const std::string& procfs, MonotonicTime now,
                                              Duration max_age, ProcessScanNeeds needs) = 0;
};

// One scan without a shared table (unit tests, `vigil once`). Processes that
// vanish mid-scan are skipped; only an unreadable procfs or uptime is an error.
Result<ProcessSnapshotPtr> scan_processes(const std::string& procfs, MonotonicTime now,
                                          ProcessScanNeeds needs);

// Open file descriptors of one process, nullopt when its fd table cannot be
// read (another user's process without privileges, or gone). Counted per
// matching process rather than in the scan: a readdir per process on the
// whole host would dominate the scan's cost.
std::optional<int64_t> count_process_fds(const std::string& procfs, int pid);

}  // namespace vigil
