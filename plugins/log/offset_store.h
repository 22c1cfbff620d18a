#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/util/result.h"

namespace vigil {

// What a log check remembers across restarts, in `<state_dir>/offsets`.
//
// A text file, written whole with write_file_atomic, one record per line; a path
// is last on its line because it may contain spaces (a path with a newline is not
// kept):
//
//   vigil-log-offsets 1
//   seen <glob>                      a `path` value whose first sight is done
//   file <dev> <ino> <fp_len> <fp_hash> <offset> <skipping> <path>
//
//   dev, ino   identify the file while it exists; inode numbers are reused at once
//   fp_len     how many of its first bytes the fingerprint covers (at most 1 KiB)
//   fp_hash    FNV-1a 64 of those bytes, in hex: tells a reused inode apart
//   offset     where reading resumes: the start of the unfinished last line, so
//              that a partial line survives a restart whole
//   skipping   1 when offset is inside the rest of an over-long line being skipped
struct FileRecord {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t fp_len = 0;
  uint64_t fp_hash = 0;
  uint64_t offset = 0;
  bool skipping = false;
  std::string path;
};

struct OffsetState {
  std::set<std::string> seen_globs;
  std::vector<FileRecord> files;
};

std::string format_offsets(const OffsetState& state);
Result<OffsetState> parse_offsets(std::string_view text);

// FNV-1a 64, the fingerprint hash: cheap, and a collision needs the same inode too.
uint64_t fingerprint_hash(std::string_view bytes);

}  // namespace vigil
