#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/spool/cursor_file.h"
#include "agent/spool/segment.h"
#include "agent/util/result.h"

namespace vigil {

// The durable, per-output queue of records (docs/DELIVERY.md, docs/SPOOL.md).
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
// Thread-safety: append() may run on one thread while peek(), ack() and stats() run
// on another. The disk sync of an append runs outside the lock, so a slow disk does
// not stall the reader.
struct SpoolOptions {
  uint64_t max_bytes = 256ull << 20;
  bool drop_newest = false;
  // Test hooks that replace write(2) and fdatasync(2), to inject ENOSPC or EIO.
  // Empty means the system calls.
  std::function<ssize_t(int, const void*, size_t)> write_fn;
  std::function<int(int)> sync_fn;
};

struct SpoolEntry {
  std::string id;
  std::string payload;  // one serialised record
};

struct SpoolStats {
  uint64_t records = 0;         // durable, unacknowledged
  uint64_t bytes = 0;           // durable bytes from the cursor on: those records' frames
  uint64_t dropped = 0;         // cumulative since open
  uint64_t corrupt_frames = 0;  // cumulative since open
  uint64_t disk_bytes = 0;      // all segment files, what max_bytes bounds
};

class Spool {
 public:
  // Opens or creates `dir`. Scans the segments from the cursor on, a window at a time
  // (never the whole spool in memory): cuts a torn tail of the last segment, skips and
  // counts corrupt frames, moves an unreadable segment or cursor file aside (counted
  // in corrupt_frames). Spool contents never make it fail; only an unusable folder does.
  static Result<std::unique_ptr<Spool>> open(const std::string& dir, SpoolOptions opts);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends the records and makes them durable (one fdatasync per call). Blocking:
  // call it off the event loop. At the cap the spool_full policy applies: drop_oldest
  // deletes the oldest whole segments, counting their unacknowledged records as
  // dropped; drop_newest refuses the new records, counted as dropped. ENOSPC or EDQUOT
  // on write is handled the same way. A record that cannot fit even in an empty spool
  // is dropped and counted. An Error (failed write or fsync) is fatal: the spool
  // refuses all further calls, and the caller should exit and recover at restart
  // (PostgreSQL's fsyncgate: after a failed fsync the page cache cannot be trusted).
  Status append(const std::vector<SpoolEntry>& records);

  // Up to max_records records, and max_bytes of payload (but at least one record),
  // from the unacknowledged head, in order, without consuming them.
  Result<std::vector<SpoolEntry>> peek(size_t max_records, uint64_t max_bytes);

  // Acknowledges the first n records of the batch the last peek() returned (or of the
  // head, when nothing was peeked since the last ack). Records of that batch that were
  // dropped meanwhile by drop_oldest are not counted twice: the n refer to the batch.
  // Stores the cursor durably, then deletes the segments it has passed.
  Status ack(size_t n);

  SpoolStats stats() const;

 private:
  struct Segment {
    uint64_t seq = 0;
    uint64_t size = 0;                   // bytes written or buffered, header included
    uint64_t durable = 0;                // bytes known to be on disk; readers stop here
    uint64_t records = 0;                // durable records at or after the cursor
    uint64_t pending = 0;                // records of the running append, not durable yet
    std::map<uint64_t, uint64_t> skips;  // corrupt regions, start -> end
  };

  Spool(std::string dir, SpoolOptions opts);
  Status load();
  Status load_segment(uint64_t seq, bool last, SpoolPosition cursor);

  std::string segment_path(uint64_t seq) const;
  uint64_t disk_bytes() const;
  Result<bool> make_room(uint64_t frame);
  Result<bool> start_segment();
  void drop_front();
  Status flush();
  ssize_t write_some(int fd, const void* data, size_t size);
  int sync_fd(int fd);
  Status walk(SpoolPosition from, size_t max_records, uint64_t max_bytes,
              std::vector<SpoolEntry>* out, std::vector<SpoolPosition>* ends);
  Status rescan(Segment& s);
  Status fail(Error e);

  const std::string dir_;
  const SpoolOptions opts_;
  const uint64_t segment_max_;

  // Held by append() for its whole run, so the fds it syncs outside mu_ stay its own.
  std::mutex append_mu_;
  mutable std::mutex mu_;
  std::deque<Segment> segs_;
  uint64_t next_seq_ = 1;
  int tail_fd_ = -1;  // segs_.back() while it takes appends
  int dir_fd_ = -1;
  bool created_segment_ = false;  // since the last folder fsync
  std::vector<int> retired_;      // former tails written by this append: sync, then close
  std::vector<int> to_close_;     // deleted tails
  std::string buffer_;            // frames of this append not yet written to the tail
  std::vector<uint64_t> buffer_ends_;

  CursorFile cursor_file_;
  SpoolPosition cursor_;
  SegmentReader reader_;
  uint64_t reader_seq_ = 0;

  // Records consumed from the head (acknowledged or dropped) since open, and the same
  // count when the last peek ran, so ack(n) can tell which of its n were dropped.
  uint64_t head_index_ = 0;
  uint64_t peek_start_ = 0;
  std::vector<SpoolPosition> peek_ends_;  // where each peeked record ends

  uint64_t dropped_ = 0;
  uint64_t corrupt_ = 0;
  bool failed_ = false;
};

}  // namespace vigil
