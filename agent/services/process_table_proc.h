#pragma once

#include <string>

#include "agent/plugin/process_table.h"

namespace vigil {

// The ProcessTable the agent hands to process checks: it keeps the last scan
// and rescans only when a caller finds it too old or missing a field. It runs
// on the loop thread, like the checks that use it.
class ProcProcessTable final : public ProcessTable {
 public:
  Result<ProcessSnapshotPtr> snapshot(const std::string& procfs, MonotonicTime now,
                                      Duration max_age, ProcessScanNeeds needs) override;

  int scans() const { return scans_; }  // scans made so far (tests, status)

 private:
  std::string procfs_;
  ProcessSnapshotPtr last_;
  // Every field some caller ever asked for: checks with different needs take
  // turns, and a union keeps one from forcing a rescan after the other.
  ProcessScanNeeds wanted_;
  int scans_ = 0;
};

}  // namespace vigil
