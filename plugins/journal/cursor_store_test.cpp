#include "plugins/journal/cursor_store.h"

#include <catch2/catch.hpp>
#include <string>

namespace vigil {
namespace {

// As sd_journal_get_cursor(3) writes them.
constexpr const char* kCursor =
    "s=92b4db08869545b6a39afaeebbeb4608;i=1a;b=0123456789abcdef0123456789abcdef;m=3e8;"
    "t=60a24181e4000;x=aad239841e32aacb";

TEST_CASE("a journal cursor survives a format and parse round trip", "[journal]") {
  CursorState s{kCursor};
  std::string text = format_cursor_state(s);
  CHECK(text == std::string("vigil-journal-cursor 1\ncursor ") + kCursor + "\n");
  auto back = parse_cursor_state(text);
  REQUIRE(back.ok());
  CHECK(back.value() == s);
}

TEST_CASE("a cursor state without a cursor says the check started", "[journal]") {
  std::string text = format_cursor_state(CursorState{});
  CHECK(text == "vigil-journal-cursor 1\n");
  auto back = parse_cursor_state(text);
  REQUIRE(back.ok());
  CHECK_FALSE(back->cursor.has_value());
}

TEST_CASE("a damaged cursor file is an error, not a position", "[journal]") {
  for (const std::string& bad : {
           std::string(""),
           std::string("vigil-journal-cursor 2\n"),
           std::string("vigil-log-offsets 1\n"),
           std::string("vigil-journal-cursor 1\ncursor ") + kCursor,  // no final newline
           std::string("vigil-journal-cursor 1\ncursor \n"),
           std::string("vigil-journal-cursor 1\ncursor s=1;i=2 x\n"),
           std::string("vigil-journal-cursor 1\ncursor s=\x01\n"),
           std::string("vigil-journal-cursor 1\ncursor a\ncursor b\n"),
           std::string("vigil-journal-cursor 1\nseen x\n"),
       }) {
    INFO(bad);
    CHECK_FALSE(parse_cursor_state(bad).ok());
  }
}

TEST_CASE("cursors are printable ASCII without spaces", "[journal]") {
  CHECK(valid_cursor(kCursor));
  CHECK_FALSE(valid_cursor(""));
  CHECK_FALSE(valid_cursor("s=1 i=2"));
  CHECK_FALSE(valid_cursor("s=1\ni=2"));
  CHECK_FALSE(valid_cursor("s=\xc3\xa9"));
  CHECK_FALSE(valid_cursor(std::string(1025, 'a')));
  // A cursor that cannot be written is left out rather than corrupting the file.
  CHECK(format_cursor_state(CursorState{"bad cursor"}) == "vigil-journal-cursor 1\n");
}

TEST_CASE("a cursor's sequence tells how many entries a gap lost", "[journal]") {
  auto seq = cursor_sequence(kCursor);
  REQUIRE(seq.has_value());
  CHECK(seq->seqnum_id == "92b4db08869545b6a39afaeebbeb4608");
  CHECK(seq->seqnum == 0x1a);
  CHECK_FALSE(cursor_sequence("b=1;m=2").has_value());
  CHECK_FALSE(cursor_sequence("s=abc;i=zz").has_value());
  CHECK_FALSE(cursor_sequence("s=abc;i=").has_value());

  CHECK(entries_between("s=abc;i=a", "s=abc;i=10") == 5u);  // 0xb .. 0xf
  CHECK(entries_between("s=abc;i=a", "s=abc;i=b") == 0u);
  // Another sequence (a new journal file), or one that went back: unknown.
  CHECK_FALSE(entries_between("s=abc;i=a", "s=def;i=10").has_value());
  CHECK_FALSE(entries_between("s=abc;i=10", "s=abc;i=a").has_value());
  CHECK_FALSE(entries_between("s=abc;i=a", "s=abc;i=a").has_value());
  CHECK_FALSE(entries_between("junk", "s=abc;i=10").has_value());
}

}  // namespace
}  // namespace vigil
