#include "plugins/journal/cursor_store.h"

#include <cstdlib>
#include <string>

namespace vigil {
namespace {

constexpr std::string_view kHeader = "vigil-journal-cursor 1";
constexpr std::string_view kCursorKey = "cursor ";
constexpr size_t kMaxCursor = 1024;

}  // namespace

bool valid_cursor(std::string_view text) {
  if (text.empty() || text.size() > kMaxCursor) {
    return false;
  }
  for (char c : text) {
    if (c <= ' ' || c > '~') {
      return false;
    }
  }
  return true;
}

std::string format_cursor_state(const CursorState& state) {
  std::string out(kHeader);
  out += '\n';
  if (state.cursor.has_value() && valid_cursor(*state.cursor)) {
    out += kCursorKey;
    out += *state.cursor;
    out += '\n';
  }
  return out;
}

Result<CursorState> parse_cursor_state(std::string_view text) {
  CursorState state;
  bool header = false;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return make_error("cursor: truncated last line");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (!header) {
      if (line != kHeader) {
        return make_error("cursor: unknown format");
      }
      header = true;
      continue;
    }
    if (line.substr(0, kCursorKey.size()) != kCursorKey || state.cursor.has_value() ||
        !valid_cursor(line.substr(kCursorKey.size()))) {
      return make_error("cursor: bad line " + std::to_string(line_no));
    }
    state.cursor = std::string(line.substr(kCursorKey.size()));
  }
  if (!header) {
    return make_error("cursor: empty file");
  }
  return state;
}

std::optional<CursorSequence> cursor_sequence(std::string_view cursor) {
  CursorSequence seq;
  bool have_id = false;
  bool have_num = false;
  while (!cursor.empty()) {
    size_t semi = cursor.find(';');
    std::string_view item = cursor.substr(0, semi);
    cursor.remove_prefix(semi == std::string_view::npos ? cursor.size() : semi + 1);
    if (item.substr(0, 2) == "s=" && item.size() > 2) {
      seq.seqnum_id = std::string(item.substr(2));
      have_id = true;
    } else if (item.substr(0, 2) == "i=" && item.size() > 2 && item.size() <= 18) {
      std::string hex(item.substr(2));
      char* end = nullptr;
      seq.seqnum = strtoull(hex.c_str(), &end, 16);
      have_num = end != nullptr && *end == '\0' && hex[0] != '-' && hex[0] != '+';
    }
  }
  if (!have_id || !have_num) {
    return std::nullopt;
  }
  return seq;
}

std::optional<uint64_t> entries_between(std::string_view from, std::string_view to) {
  auto a = cursor_sequence(from);
  auto b = cursor_sequence(to);
  if (!a || !b || a->seqnum_id != b->seqnum_id || b->seqnum <= a->seqnum) {
    return std::nullopt;
  }
  return b->seqnum - a->seqnum - 1;
}

}  // namespace vigil
