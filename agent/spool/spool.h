#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/spool/cursor_file.h"
#include "agent/spool/mutex.h"
#include "agent/spool/segment.h"
#include "agent/util/result.h"

namespace vigil {

// The durable, per-output queue of records (docs/DELIVERY.md; docs/SPOOL.md describes
// the format and the recovery rules for operators).
//
// On disk, one folder per output (state_dir/spool/NAME/):
//
//   spool/NAME/
//   +-- cursor                     acknowledged position, 4 KiB of slots (cursor_file.h)
//   +-- 00000000000000000041.seg   oldest segment: header, frames (segment.h)
//   +-- 00000000000000000042.seg
//   +-- 00000000000000000043.seg   tail: the only one appended to
//   +-- 00000000000000000040.seg.corrupt-1795000000   moved aside at open, never read
//
//   segment = [header 16 B][frame][frame]...   frame = [magic|len|crc32c|idlen|id|payload]
//
// Records go in at the tail and are read and acknowledged at the head. A segment is
// at most max_bytes / 8 (one larger record gets a segment of its own) and is deleted
// whole, once the durable cursor has passed it, or when the spool is full and
// drop_oldest applies. The bytes of all segments never exceed max_bytes.
//
// Durability: append() writes and fdatasync()s before it returns (one sync per call,
// so a batch is one group commit), and fsyncs the folder when it created a segment.
// Readers never see bytes that are not yet durable, so no record is sent before it is
// safe. ack() stores the cursor durably before any segment it covers is deleted.
//
// Disk space: the tail segment keeps a reserve allocated ahead of its end
// (fallocate with FALLOC_FL_KEEP_SIZE, so file sizes still end at the last frame), so
// that a disk filled by someone else does not stop appends at once. Once the reserve
// is spent, records that do not fit on the disk are refused, not dropped: append()
// says which, and the caller keeps them until space returns.
//
// Threads and locks. append() runs on one thread at a time; peek() and ack() on one
// thread at a time, which may differ from the appender's; stats() on any thread, the
// event loop's included. The rule that keeps the loop from ever waiting for a disk:
// no lock that stats() takes is held across any system call. In order of acquisition:
//
//   append_mu_  serialises appenders; guards the tail's writing state. Held across
//               write(), fdatasync(), ftruncate(), fallocate() and file creation.
//   read_mu_    serialises readers (peek, ack); guards the segment reader and the
//               cursor file. Held across reads and the cursor's store and sync.
//   mu_         guards what both sides share: the segment list, the cursor, the
//               counters. Never held across a write, a sync, a truncate or a file
//               creation (so an append never stalls a reader on its disk I/O). A
//               reader holds it while it reads durable frames, which no writer
//               changes: an appender then waits for those reads, the loop never does.
//   stats_mu_   guards the published statistics only; held for a copy of a few words.
//
// Each member below names the mutex that guards it.
struct SpoolOptions {
  uint64_t max_bytes = 256ull << 20;
  bool drop_newest = false;
  // Bytes kept allocated ahead of the tail's end (capped at a segment's size); 0: none.
  uint64_t reserve_bytes = 1ull << 20;
  // Most bytes of a segment; 0: max_bytes / 8. The low lane of a prioritised spool
  // (lane_spool.h) uses smaller ones, so that an eviction gives up fewer records.
  uint64_t segment_bytes = 0;
  // The other lanes of the same output (lane_spool.h), which share max_bytes: the
  // bytes they hold count against it, and at the cap evict_other() is asked first to
  // delete another lane's oldest segment (false when it has none left to give).
  // Called with append_mu_ held and mu_ released. Empty: a spool of its own.
  std::function<uint64_t()> others_bytes;
  std::function<bool()> evict_other;
  // Test hooks that replace write(2) and fdatasync(2), to inject ENOSPC or EIO.
  // Empty means the system calls.
  std::function<ssize_t(int, const void*, size_t)> write_fn;
  std::function<int(int)> sync_fn;
};

struct SpoolEntry {
  std::string id;
  std::string payload;  // one serialised record
  // Where the record's frame ends in the spool, set by peek(): ack(end) acknowledges
  // this record and every record before it. append() ignores it.
  SpoolPosition end{};
  // Which lane of a LaneSpool the record was read from, set by LaneSpool::peek().
  uint8_t lane = 0;
};

// A record for append(), by reference to what the caller holds: no copy is made
// before it is encoded. Its frame's id is id_prefix + id.
struct SpoolRecord {
  std::string_view id_prefix;
  std::string_view id;
  std::string_view payload;
};

// What append() did with a batch of n records.
struct AppendResult {
  // Records [0, taken) are durable in the spool, or were dropped by the spool_full
  // policy (and counted in SpoolStats::dropped). Records [taken, n) did not fit on
  // the disk (ENOSPC or EDQUOT once the reserve was spent): neither stored nor
  // counted. The caller still holds them, and appends them again, first and in the
  // same order, once the disk has room.
  size_t taken = 0;
  // Why records were refused, naming the spool ("spool DIR: No space left on
  // device"); empty when taken is n.
  std::string no_space_error;
};

struct SpoolStats {
  uint64_t records = 0;          // durable, unacknowledged
  uint64_t bytes = 0;            // durable bytes from the cursor on: those records' frames
  uint64_t dropped = 0;          // cumulative since open
  KindCounts dropped_by_kind{};  // the same by record kind (payload_kind())
  // Records lost to corruption since open: an estimate for each damaged region that
  // errs high rather than low (docs/SPOOL.md, "Counting losses").
  uint64_t corrupt_frames = 0;
  uint64_t disk_bytes = 0;  // all segment files, what max_bytes bounds
};

class Spool {
 public:
  // Opens or creates `dir`. Scans the segments from the cursor on, a window at a time
  // (never the whole spool in memory): cuts a torn tail of the last segment, skips
  // corrupt frames and counts the records lost with them, reads the frames of a
  // segment whose header is damaged, and moves aside a segment that cannot be read
  // at all. Spool contents never make it fail; only an unusable folder does.
  static Result<std::unique_ptr<Spool>> open(const std::string& dir, SpoolOptions opts);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends the records and makes them durable (one fdatasync per call). Blocking:
  // call it off the event loop. At the cap the spool_full policy applies: drop_oldest
  // deletes the oldest whole segments, counting their unacknowledged records as
  // dropped; drop_newest refuses the new records, counted as dropped. A record that
  // cannot fit even in an empty spool is dropped and counted. A full disk is not a
  // full spool: the records from the first one that did not fit on it are refused
  // (AppendResult::taken), and nothing already stored is given up for them. An Error
  // (any other failed write, or a failed fsync) is fatal: the spool refuses all
  // further calls, and the caller should exit and recover at restart (PostgreSQL's
  // fsyncgate: after a failed fsync the page cache cannot be trusted).
  Result<AppendResult> append(const std::vector<SpoolRecord>& records)
      VIGIL_EXCLUDES(append_mu_, read_mu_, mu_, stats_mu_);
  // The same for records held as entries (their `end` and `lane` are ignored).
  Result<AppendResult> append(const std::vector<SpoolEntry>& records)
      VIGIL_EXCLUDES(append_mu_, read_mu_, mu_, stats_mu_);

  // Up to max_records records, and max_bytes of payload (but at least one record),
  // from the unacknowledged head, in order, without consuming them. Each carries
  // the position where it ends, for ack().
  // *more, when given, says whether the batch stopped at the budget (more durable
  // records follow) rather than at the end of what is durable. With `after`, the
  // read starts there instead, when it is past the cursor: the records before it
  // are on their way already (an end from an earlier peek).
  Result<std::vector<SpoolEntry>> peek(size_t max_records, uint64_t max_bytes, bool* more = nullptr,
                                       SpoolPosition after = {})
      VIGIL_EXCLUDES(read_mu_, mu_, stats_mu_);

  // Acknowledges every record that ends at or before `through` (a SpoolEntry::end
  // from peek()): stores the cursor there durably, then deletes the segments it has
  // passed. Acknowledging what is already behind the cursor is a no-op: a batch acked
  // twice, or one that drop_oldest deleted while it was being sent.
  Status ack(SpoolPosition through) VIGIL_EXCLUDES(read_mu_, mu_, stats_mu_);

  // Deletes the oldest segment, counting its unacknowledged records as dropped, for
  // another lane that needs the room (at the cap, or on a full disk). False when the
  // spool has no segment. Blocking: call it off the event loop.
  bool evict_oldest() VIGIL_EXCLUDES(append_mu_, read_mu_, mu_, stats_mu_);

  // The id of the newest frame on disk, acknowledged or not; empty when there is none.
  Result<std::string> last_id() VIGIL_EXCLUDES(read_mu_, mu_, stats_mu_);

  // A copy of numbers published at the end of every change. Never waits for a disk.
  SpoolStats stats() const VIGIL_EXCLUDES(stats_mu_);

 private:
  struct Segment {
    uint64_t seq = 0;
    uint64_t size = 0;                   // bytes written or buffered, header included
    uint64_t durable = 0;                // bytes known to be on disk; readers stop here
    uint64_t records = 0;                // durable records at or after the cursor
    uint64_t unsynced = 0;               // records of the running append, not durable yet
    KindCounts kinds{};                  // records + unsynced, by record kind
    std::map<uint64_t, uint64_t> skips;  // corrupt regions, start -> end
  };
  // A damaged region found at open, counted once the whole spool has been scanned.
  struct Loss {
    uint64_t bytes = 0;
    uint64_t magics = 0;
    bool torn_tail = false;  // the end of the newest segment: a crash mid-append
  };
  enum class Room { kFits, kDrop, kNoSpace };
  using Visit = std::function<bool(const Frame&, SpoolPosition end)>;

  Spool(std::string dir, SpoolOptions opts);
  // Runs inside open(), before the spool is shared with any other thread.
  Status load() VIGIL_NO_THREAD_SAFETY_ANALYSIS;
  Status load_segment(uint64_t seq, bool last, SpoolPosition cursor,
                      std::vector<Loss>* losses) VIGIL_NO_THREAD_SAFETY_ANALYSIS;

  std::string segment_path(uint64_t seq) const;
  size_t newest_written(const std::vector<uint64_t>& seqs) const;
  uint64_t disk_bytes() const VIGIL_REQUIRES(mu_);
  uint64_t lost_records(const Loss& loss) const VIGIL_REQUIRES(mu_);
  void publish_stats() VIGIL_REQUIRES(mu_) VIGIL_EXCLUDES(stats_mu_);

  // The appender's side; *refused receives the index of the first record that did
  // not fit on the disk, when one did not.
  // Buffers and writes the records' frames; returns how many the disk took (all,
  // or those before the first it had no room for).
  Result<size_t> write_frames(const std::vector<SpoolRecord>& records) VIGIL_REQUIRES(append_mu_)
      VIGIL_EXCLUDES(mu_);
  // Makes what write_frames() wrote durable (fdatasync, and the folder's fsync
  // for a new segment); a failure is fatal.
  Status sync_written() VIGIL_REQUIRES(append_mu_) VIGIL_EXCLUDES(mu_);
  Result<Room> make_room(uint64_t frame, size_t* refused) VIGIL_REQUIRES(append_mu_)
      VIGIL_EXCLUDES(mu_);
  Result<Room> start_segment(size_t* refused) VIGIL_REQUIRES(append_mu_) VIGIL_EXCLUDES(mu_);
  uint64_t drop_front() VIGIL_REQUIRES(append_mu_, mu_);
  bool over_cap(uint64_t needed) VIGIL_REQUIRES(append_mu_) VIGIL_EXCLUDES(mu_);
  void count_dropped(size_t kind, int64_t n) VIGIL_REQUIRES(mu_);
  Result<bool> flush(size_t* refused) VIGIL_REQUIRES(append_mu_) VIGIL_EXCLUDES(mu_);
  void reserve_ahead(uint64_t upcoming) VIGIL_REQUIRES(append_mu_);
  void unlink_segments(const std::vector<uint64_t>& seqs) const;
  ssize_t write_some(int fd, const void* data, size_t size);
  int sync_fd(int fd);

  // The readers' side.
  Status walk(SpoolPosition from, const Visit& visit) VIGIL_REQUIRES(read_mu_, mu_);
  Status rescan(Segment& s) VIGIL_REQUIRES(read_mu_, mu_);
  void close_stale_reader() VIGIL_REQUIRES(read_mu_, mu_);

  // Logs a fatal error and makes every later call refuse (fatal_).
  Status fatal(Error e);
  // The error every call returns once the spool has had a fatal error.
  Status check_not_fatal() const;

  const std::string dir_;
  const SpoolOptions opts_;
  const uint64_t segment_max_;
  const uint64_t reserve_;
  int dir_fd_ = -1;  // set by load(), then only read

  mutable Mutex append_mu_;
  mutable Mutex read_mu_ VIGIL_ACQUIRED_AFTER(append_mu_);
  mutable Mutex mu_ VIGIL_ACQUIRED_AFTER(append_mu_, read_mu_);
  mutable Mutex stats_mu_ VIGIL_ACQUIRED_AFTER(mu_);

  // The tail, as the appender writes it.
  int tail_fd_ VIGIL_GUARDED_BY(append_mu_) = -1;           // segs_.back() while it takes appends
  uint64_t tail_written_ VIGIL_GUARDED_BY(append_mu_) = 0;  // bytes in the tail file
  uint64_t reserved_end_ VIGIL_GUARDED_BY(append_mu_) = 0;  // allocated up to here
  uint64_t next_seq_ VIGIL_GUARDED_BY(append_mu_) = 1;
  bool created_segment_ VIGIL_GUARDED_BY(append_mu_) = false;  // since the last folder fsync
  bool wrote_ VIGIL_GUARDED_BY(append_mu_) = false;            // this append wrote to a segment
  std::vector<int> retired_ VIGIL_GUARDED_BY(append_mu_);      // former tails: sync, then close
  std::vector<int> to_close_ VIGIL_GUARDED_BY(append_mu_);     // deleted tails
  // Frames of this append not yet written to the tail, where each ends in the
  // buffer, and which record of the batch each is.
  std::string buffer_ VIGIL_GUARDED_BY(append_mu_);
  std::vector<uint64_t> buffer_ends_ VIGIL_GUARDED_BY(append_mu_);
  std::vector<size_t> buffer_records_ VIGIL_GUARDED_BY(append_mu_);
  std::vector<size_t> buffer_kinds_ VIGIL_GUARDED_BY(append_mu_);
  std::string no_space_error_ VIGIL_GUARDED_BY(append_mu_);

  // The readers' own.
  CursorFile cursor_file_ VIGIL_GUARDED_BY(read_mu_);
  SegmentReader reader_ VIGIL_GUARDED_BY(read_mu_);
  uint64_t reader_seq_ VIGIL_GUARDED_BY(read_mu_) = 0;

  // Shared.
  std::deque<Segment> segs_ VIGIL_GUARDED_BY(mu_);
  SpoolPosition cursor_ VIGIL_GUARDED_BY(mu_);
  uint64_t dropped_ VIGIL_GUARDED_BY(mu_) = 0;
  KindCounts dropped_by_kind_ VIGIL_GUARDED_BY(mu_){};
  uint64_t corrupt_ VIGIL_GUARDED_BY(mu_) = 0;
  // Valid frames seen (scanned at open, appended since) and their bytes: the average
  // frame size that turns a damaged region's size into a count of records.
  uint64_t frames_seen_ VIGIL_GUARDED_BY(mu_) = 0;
  uint64_t frame_bytes_seen_ VIGIL_GUARDED_BY(mu_) = 0;

  SpoolStats published_ VIGIL_GUARDED_BY(stats_mu_);
  // Set once, by the first fatal error; read without a lock by every call.
  std::atomic<bool> fatal_{false};
};

}  // namespace vigil
