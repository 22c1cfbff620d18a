#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/spool/segment.h"
#include "agent/util/result.h"

namespace vigil {

// The acknowledged position of a spool: everything in segments numbered below
// `segment`, and in `segment` before `offset`, has been delivered.
//
// The file `cursor` is 4096 bytes written once (durably, by write_file_atomic) and
// then only overwritten in place, one 32-byte slot per store, round robin:
//
//   slot i at byte 32 * i, i = generation % 128
//   0       4        8              16             24            32
//   +-------+--------+--------------+--------------+-------------+
//   | "VCU1"| crc32c | generation   | segment      | offset      |
//   +-------+--------+--------------+--------------+-------------+
//   crc32c covers bytes [8, 32) of the slot; integers are little-endian.
//
// The valid slot with the highest generation wins. Overwriting allocated blocks
// keeps the file size and block map unchanged, so fdatasync() need not commit the
// file-system journal: a store costs one small data write (about 50 us on ext4 and
// virtio here, against about 300 us for an append that grows a file). A slot torn by
// a power loss fails its checksum, and the previous slot, still intact, is used: the
// spool then re-sends a few delivered records, which at-least-once allows.
class CursorFile {
 public:
  using SyncFn = std::function<int(int)>;

  CursorFile() = default;
  ~CursorFile();
  CursorFile(const CursorFile&) = delete;
  CursorFile& operator=(const CursorFile&) = delete;

  // Opens `path`, or creates it holding {0, 0} (nothing acknowledged) when it is
  // missing or unreadable. An unreadable one is moved aside first and `*was_corrupt`
  // set. `sync` replaces fdatasync() (tests inject failures); empty means fdatasync.
  Result<SpoolPosition> open(const std::string& path, SyncFn sync, bool* was_corrupt);
  // Writes `pos` to the next slot and waits until it is durable.
  // Writes the next slot; with `durable`, fdatasync()s it too. A slot written
  // without a sync may be lost in a crash: the previous durable one is then
  // used, and the records between the two are sent again (at-least-once).
  Status store(SpoolPosition pos, bool durable = true);

 private:
  // Writes the whole file holding `pos` (temp file, fsync, rename).
  Status create(SpoolPosition pos);

  int fd_ = -1;
  std::string path_;
  uint64_t generation_ = 0;
  SyncFn sync_;
};

}  // namespace vigil
