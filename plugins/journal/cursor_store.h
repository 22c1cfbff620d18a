#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/util/result.h"

namespace vigil {

// What a journal check remembers across restarts, in `<state_dir>/cursor`,
// written whole with write_file_atomic (through the FileSaver while running):
//
//   vigil-journal-cursor 1
//   cursor <cursor>
//
//   cursor   the last entry read and reported, as sd_journal_get_cursor(3) gives
//            it: `s=<seqnum id>;i=<seqnum, hex>;b=<boot id>;m=<monotonic, hex>;
//            t=<realtime, hex>;x=<xor hash, hex>`, printable ASCII without spaces.
//
// The file exists once the check has started. Without a `cursor` line the journal
// held no entry the check selects when it started (from = end) and none came
// since: a restart then reads from the oldest entry, since every entry there is
// newer than that start; `from` applies only when there is no file.
struct CursorState {
  std::optional<std::string> cursor;

  bool operator==(const CursorState&) const = default;
};

std::string format_cursor_state(const CursorState& state);
Result<CursorState> parse_cursor_state(std::string_view text);

// Whether text can be a cursor: 1 to 1024 bytes of printable ASCII, no space.
bool valid_cursor(std::string_view text);

// Where a cursor is in its journal's sequence: entries of one sequence (one
// seqnum id) are numbered in the order journald wrote them.
struct CursorSequence {
  std::string seqnum_id;
  uint64_t seqnum = 0;
};
// The `s=` and `i=` fields of a cursor; nullopt when it lacks them.
std::optional<CursorSequence> cursor_sequence(std::string_view cursor);

// How many entries were written between the entry `from` and the entry `to`
// (neither counted), when both belong to one sequence and `to` comes later;
// nullopt when that cannot be told (another journal, a reset sequence).
std::optional<uint64_t> entries_between(std::string_view from, std::string_view to);

}  // namespace vigil
