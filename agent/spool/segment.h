#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/util/result.h"

namespace vigil {

// One spool segment is a file named by its zero-padded sequence number
// (`00000000000000000007.seg`), holding a header and then frames, appended only.
// All integers are little-endian.
//
//   segment header, 16 bytes
//   0                 8           12          16
//   +-----------------+-----------+-----------+
//   | "VIGILSP1"      | version=1 | crc32c    |   crc32c of bytes [0, 12)
//   +-----------------+-----------+-----------+
//
//   frame, 14 + I + P bytes
//   0         4          8          12        14          14+I            14+I+P
//   +---------+----------+----------+---------+-----------+---------------+
//   | magic   | length L | crc32c   | I (u16) | id        | payload       |
//   | 56 46 52 E5        |          |         | I bytes   | P bytes       |
//   +---------+----------+----------+---------+-----------+---------------+
//   L = 2 + I + P (the bytes after the crc); crc32c covers the length field
//   (bytes [4, 8)) and the L bytes after the crc, so a flipped length is caught too.
//
// A frame never spans two segments. Frames carry the record id so a damaged spool
// can still be matched against what a receiver saw.
inline constexpr char kSegmentMagic[8] = {'V', 'I', 'G', 'I', 'L', 'S', 'P', '1'};
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr uint64_t kSegmentHeaderSize = 16;
inline constexpr unsigned char kFrameMagic[4] = {0x56, 0x46, 0x52, 0xE5};
inline constexpr uint64_t kFrameHeaderSize = 12;  // magic, length, crc
inline constexpr uint64_t kFrameOverhead = kFrameHeaderSize + 2;
// A larger length field is taken for corruption rather than trusted with an allocation.
inline constexpr uint64_t kMaxFrameBody = 64ull << 20;
inline constexpr size_t kMaxIdSize = 0xFFFF;

// A place in the spool: a segment's sequence number and a byte offset in it.
// Positions order as the records they point at: by segment, then by offset.
struct SpoolPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const SpoolPosition&) const = default;
};

std::string segment_file_name(uint64_t seq);
// The sequence number of a segment file name, or nothing for any other name.
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

std::string segment_header();
bool is_segment_header(std::string_view bytes);

// The kinds of record a payload can hold, as counted per kind (dropped_by_kind): the
// record's first "kind" field ({"kind":"event",...}). Anything else counts as an
// event.
inline constexpr size_t kRecordKinds = 4;
inline constexpr const char* kRecordKindNames[kRecordKinds] = {"event", "heartbeat", "incident",
                                                               "problem"};
using KindCounts = std::array<uint64_t, kRecordKinds>;
size_t payload_kind(std::string_view payload);

inline uint64_t frame_size(size_t id_size, size_t payload_size) {
  return kFrameOverhead + id_size + payload_size;
}
// Appends one encoded frame to `out`, whose id is id_prefix + id; the caller checks
// the id and body limits.
void encode_frame(std::string* out, std::string_view id, std::string_view payload,
                  std::string_view id_prefix = {});

struct Frame {
  uint64_t size = 0;  // whole frame, header included
  std::string_view id;
  std::string_view payload;
};

enum class FrameStatus {
  kOk,
  kCorrupt,     // bad magic, impossible length, or checksum mismatch
  kIncomplete,  // the frame would end past `end`: a torn tail, or a corrupt length
  kIoError,
};

// Reads a segment through a window of recently read bytes, so frames are parsed
// without a system call each, while at most max(window, largest frame) bytes sit
// in memory: the spool is never loaded whole (Vector #26035 ran out of memory so).
class SegmentReader {
 public:
  SegmentReader() = default;
  ~SegmentReader() { close(); }
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // Fails for anything that is not a readable regular file.
  Status open(const std::string& path);
  void close();
  bool is_open() const { return fd_ >= 0; }
  Result<uint64_t> file_size() const;
  // Forgets the window (after the file was truncated).
  void invalidate() { window_size_ = 0; }

  // The bytes [offset, offset + size), or an error if they cannot all be read. The
  // window read ahead stops at `limit`: bytes past it may still be written by an
  // append, or cut again after a failed one, so they must never be cached.
  Result<std::string_view> fetch(uint64_t offset, size_t size, uint64_t limit);
  // Decodes and checks the frame at `offset`, which must end at or before `end`.
  FrameStatus read_frame(uint64_t offset, uint64_t end, Frame* frame);
  // The first offset in [from, end) where a whole, valid frame starts.
  std::optional<uint64_t> find_next_frame(uint64_t from, uint64_t end);
  // How many times the frame magic occurs in [from, end), valid frame or not: what a
  // damaged region held, as far as its bytes still tell.
  Result<uint64_t> count_magics(uint64_t from, uint64_t end);
  const std::string& last_error() const { return last_error_; }

 private:
  int fd_ = -1;
  std::string path_;
  // Not zero-filled (a std::string would touch every page of it): only what pread
  // writes becomes resident, so a small spool costs little memory.
  std::unique_ptr<char[]> window_;
  size_t window_capacity_ = 0;
  uint64_t window_offset_ = 0;
  size_t window_size_ = 0;
  std::string last_error_;
};

// Bytes of a segment that hold no valid frame, from where a frame should have started.
struct CorruptRegion {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t magics = 0;  // frame magics in (start, end): frames it seems to have held
};

// What a scan of [from, end) of a segment found.
struct SegmentScan {
  uint64_t records = 0;      // valid frames
  KindCounts kinds{};        // the same, per record kind (payload_kind)
  uint64_t frame_bytes = 0;  // their size, headers included
  uint64_t payload_bytes = 0;
  // New corrupt regions, each followed by a valid frame (and added to the skips).
  std::vector<CorruptRegion> regions;
  // Bytes up to `end` that hold no valid frame (a torn or corrupt tail).
  std::optional<CorruptRegion> bad_tail;
};

// Counts the valid frames of [from, end). Known corrupt regions in `skips`
// (start -> end) are stepped over silently; each new one is added to `skips` and
// returned once. A corrupt frame is resynchronised on: the scan looks for the next
// offset where the frame magic starts a frame whose checksum holds, so one bad frame
// costs only itself. A region with no valid frame after it is left to the caller as
// `bad_tail` (cut it at start, or skip it), not added to `skips`.
Result<SegmentScan> scan_segment(SegmentReader& reader, uint64_t from, uint64_t end,
                                 std::map<uint64_t, uint64_t>& skips);

}  // namespace vigil
