#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/util/result.h"

namespace vigil {

// A small document (the agent's state) kept durably in two preallocated slot
// files, `<base>.0` and `<base>.1`, each overwritten in place, as databases keep
// their control files. The point is a full disk: a save that writes into blocks
// reserved earlier needs no new block, so it still succeeds when the file system
// has no space left, where a temp file and a rename would fail with ENOSPC.
//
//   slot file: header, document, then reserved (preallocated) bytes
//   0            8            16           24       28       32
//   +------------+------------+------------+--------+--------+----------------+
//   | "VIGILST1" | generation | length L   | crc32c | 0      | document, L B  |
//   +------------+------------+------------+--------+--------+----------------+
//   crc32c covers bytes [8, 24) and the document; integers are little-endian.
//
// Saves alternate between the two slots (slot = generation % 2), so the slot not
// being written always holds the previous document whole: a save torn by a crash
// fails its checksum and the other slot is used. A slot's file is preallocated with
// fallocate() to twice what the document needs (at least 64 KiB) and grows, again
// to twice the need, when the document passes half of it: the reserve is taken
// while the disk still has room. Only a document that outgrows its reserve on an
// already full disk cannot be saved; that is reported as kNoSpace and the previous
// document stays valid.
class SlotFile {
 public:
  enum class Outcome {
    kOk,
    kNoSpace,  // ENOSPC or EDQUOT: nothing lost, try again when space returns
    kFailed,   // any other error, a failed fdatasync included: the caller must stop
  };
  struct SaveResult {
    Outcome outcome = Outcome::kOk;
    std::string error;
  };
  struct Loaded {
    std::optional<std::string> document;  // nothing when no slot holds one
    // Slot files that held bytes but no valid document (both damaged): moved
    // aside as `<file>.corrupt-<unix seconds>`; their new names.
    std::vector<std::string> set_aside;
  };
  using SyncFn = std::function<int(int)>;

  // `base` is the path without the `.0`/`.1` suffix. `sync` replaces fdatasync()
  // (tests inject failures); empty means fdatasync.
  explicit SlotFile(std::string base, SyncFn sync = {});
  ~SlotFile();
  SlotFile(const SlotFile&) = delete;
  SlotFile& operator=(const SlotFile&) = delete;

  // Reads both slots and returns the newer valid document. Blocking; call once,
  // before the first save. Two damaged slots are moved aside and reported.
  Loaded load();
  // Writes `document` to the older slot and fdatasync()s it. Blocking: call it off
  // the event loop, one call at a time.
  SaveResult save(const std::string& document);

  // The reserved size of each slot file, for tests and status.
  uint64_t capacity(int slot) const { return capacity_[slot]; }
  static std::string slot_path(const std::string& base, int slot);

 private:
  SaveResult open_slot(int slot, uint64_t need);

  std::string base_;
  SyncFn sync_;
  int fd_[2] = {-1, -1};
  uint64_t capacity_[2] = {0, 0};
  uint64_t generation_ = 0;
};

}  // namespace vigil
