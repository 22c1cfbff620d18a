#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/spool/mutex.h"
#include "agent/spool/spool.h"
#include "agent/util/result.h"

namespace vigil {

// An output's spool as lanes (docs/SPOOL.md, "Lanes"): with spool_priority on,
// incident and problem records go to the high lane, spool/NAME/high/, events and
// heartbeats to the low lane, spool/NAME/low/, each an ordered segment log (Spool).
// Both share spool_max. At the cap, or when the disk is full, the low lane gives up
// its oldest segments first (events and heartbeats together, oldest first); only
// when the low lane is empty does spool_full apply to the high lane.
//
// Order: every record of a sequenced lane carries a per-output sequence number in
// its frame id (`SEQ:ID`, SEQ 16 lower-case hex digits); peek() merges the lanes'
// heads by it, so a receiver sees records in the order they were emitted. The next
// number is found at open from the newest frame of each lane.
//
// With spool_priority off there is one lane, spool/NAME/ itself, in the layout and
// frame format of a spool without lanes. Lanes of the other setting found at open
// (spool/NAME/*.seg after turning priority on, high/ and low/ after turning it off)
// are opened too and drained first, before anything appended since.
//
// Threads: append() and evictions on one thread at a time (the output's pool job);
// peek() and ack() on one thread at a time; stats() anywhere. append_mu_ serialises
// appenders, and is taken before any lane's own locks.
class LaneSpool {
 public:
  // `opts` are the high lane's (spool_full applies to it); the low lane always drops
  // its oldest segments and has segments of max_bytes / 32.
  static Result<std::unique_ptr<LaneSpool>> open(const std::string& dir, SpoolOptions opts,
                                                 bool priority);
  LaneSpool(const LaneSpool&) = delete;
  LaneSpool& operator=(const LaneSpool&) = delete;

  // As Spool::append: records [0, taken) are durable or dropped (counted), the rest
  // refused for lack of disk space. One Spool::append (one fdatasync) per lane, the
  // low lane's first; none is readable before both are done.
  Result<AppendResult> append(const std::vector<SpoolEntry>& records) VIGIL_EXCLUDES(append_mu_);
  // The oldest unacknowledged records of all lanes, merged in emission order; each
  // carries its lane (SpoolEntry::lane) and its id without the sequence number.
  // `after`, when given, holds a position per lane (indexed by SpoolEntry::lane;
  // {0, 0} for none): each lane is read from there when it is past its cursor, to
  // read the batch after one still being sent or acknowledged.
  Result<std::vector<SpoolEntry>> peek(size_t max_records, uint64_t max_bytes,
                                       const std::vector<SpoolPosition>& after = {});
  // Acknowledges, in each lane, the records of `batch` (from peek()) and those before.
  Status ack(const std::vector<SpoolEntry>& batch);
  // The sum of the lanes' numbers.
  SpoolStats stats() const;
  // Bytes waiting in the high and in the low lane (0, 0 with priority off; records of
  // lanes being drained count in neither).
  std::pair<uint64_t, uint64_t> lane_bytes() const;
  bool priority() const { return priority_; }

  // The frame id of a record with sequence number `seq`, and back.
  static std::string sequenced_id(uint64_t seq, std::string_view id);
  // The sequence number of a frame id, stripping it off; 0 for an id without one.
  static uint64_t strip_sequence(std::string* id);
  // Writes `seq` as the 16 hex digits in front of a frame id (no colon) at `out`.
  static void write_sequence(uint64_t seq, char* out);

 private:
  struct Lane {
    std::unique_ptr<Spool> spool;
    int rank = 1;            // 0: drained first (the other setting's); 1: in use
    bool sequenced = false;  // frame ids carry sequence numbers
    bool low = false;
  };

  explicit LaneSpool(bool priority) : priority_(priority) {}
  Status open_lanes(const std::string& dir, const SpoolOptions& opts);
  Status add_lane(const std::string& dir, SpoolOptions opts, int rank, bool sequenced, bool low);
  Status find_next_sequence() VIGIL_NO_THREAD_SAFETY_ANALYSIS;
  size_t lane_for(const SpoolEntry& e) const;
  // Appends one lane's records, evicting low-lane segments while the disk has no
  // room for them.
  Result<AppendResult> append_run(size_t lane, const std::vector<SpoolRecord>& run)
      VIGIL_REQUIRES(append_mu_);
  // Deletes the oldest segment that may go for `for_lane`: the low lane's, then the
  // drained lanes'. False when none is left.
  bool evict_for(size_t for_lane);
  uint64_t bytes_besides(size_t lane) const;

  const bool priority_;
  std::vector<Lane> lanes_;    // fixed after open
  size_t high_ = 0, low_ = 0;  // indices in lanes_; equal with priority off

  mutable Mutex append_mu_;
  uint64_t next_seq_ VIGIL_GUARDED_BY(append_mu_) = 1;
  // Every record numbered up to here is durable in its lane: peek() leaves later
  // ones for the next call, so that none overtakes one still being appended.
  std::atomic<uint64_t> durable_seq_{0};
};

}  // namespace vigil
