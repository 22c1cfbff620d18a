#include "plugins/log/line_splitter.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace vigil {
namespace {

struct Collect : LineHandler {
  std::vector<std::string> lines;
  uint64_t skipped = 0;
  void on_line(std::string_view line) override { lines.emplace_back(line); }
  void on_skipped(uint64_t bytes) override { skipped += bytes; }
};

void feed(LineSplitter& s, std::string text, Collect& sink) {
  s.feed(text.data(), text.size(), sink);
}

TEST_CASE("splitter yields whole lines across chunk borders and keeps the partial one", "[log]") {
  LineSplitter s(100);
  Collect sink;
  feed(s, "one\ntw", sink);
  CHECK(sink.lines == std::vector<std::string>{"one"});
  CHECK(s.pending_raw() == 2);
  feed(s, "o\r\nthree", sink);
  CHECK(sink.lines == std::vector<std::string>{"one", "two"});
  CHECK(s.pending_raw() == 5);
  s.flush(sink);
  CHECK(sink.lines == std::vector<std::string>{"one", "two", "three"});
  CHECK(sink.skipped == 0);
}

TEST_CASE("splitter cuts an over-long line and counts the rest as skipped", "[log]") {
  LineSplitter s(8);
  Collect sink;
  const bool chunked = GENERATE(false, true);
  if (!chunked) {
    feed(s, "0123456789abc\nok\n", sink);
  } else {
    feed(s, "0123", sink);
    feed(s, "4567", sink);
    CHECK(s.held_bytes() <= 8);
    feed(s, "89", sink);
    CHECK(s.skipping());
    CHECK(s.held_bytes() == 0);
    feed(s, "ab", sink);
    feed(s, "c\nok\n", sink);
  }
  CHECK(sink.lines == std::vector<std::string>{"01234567", "ok"});
  CHECK(sink.skipped == 5);
  CHECK_FALSE(s.skipping());
}

TEST_CASE("splitter removes NUL bytes before splitting and drops lines made only of NULs",
          "[log]") {
  LineSplitter s(4);
  Collect sink;
  std::string text("\0\0\0\0\0\0\n\0ab\0cd\0\n\0", 16);
  feed(s, text, sink);
  // NULs count toward neither max_line nor skipped bytes.
  CHECK(sink.lines == std::vector<std::string>{"abcd"});
  CHECK(sink.skipped == 0);
  CHECK(s.pending_raw() == 1);
}

TEST_CASE("splitter keeps empty lines as lines", "[log]") {
  LineSplitter s(4);
  Collect sink;
  feed(s, "\n\nx\n", sink);
  CHECK(sink.lines == std::vector<std::string>{"", "", "x"});
}

TEST_CASE("splitter reset returns the bytes of the dropped partial line", "[log]") {
  LineSplitter s(100);
  Collect sink;
  feed(s, "done\nhalf", sink);
  CHECK(s.reset() == 4);
  CHECK(s.pending_raw() == 0);
  s.flush(sink);
  CHECK(sink.lines == std::vector<std::string>{"done"});
}

// Records how lines arrived: blocks (on_lines) are split here the way the default
// on_lines does it, so that both paths give comparable lines.
struct CountBlocks : Collect {
  size_t blocks = 0;
  size_t block_lines = 0;
  void on_lines(std::string_view block, size_t count) override {
    ++blocks;
    block_lines += count;
    LineHandler::on_lines(block, count);
  }
};

TEST_CASE("splitter hands the whole lines of a read to the handler as one block", "[log]") {
  LineSplitter s(100);
  CountBlocks sink;
  feed(s, "par", sink);
  feed(s, "tial\none\ntwo\r\n\nthree\nhal", sink);
  // The first line finishes the partial one; the last is unfinished: one at a time.
  CHECK(sink.blocks == 1);
  CHECK(sink.block_lines == 4);
  CHECK(sink.lines == std::vector<std::string>{"partial", "one", "two", "", "three"});
  CHECK(s.pending_raw() == 3);
}

TEST_CASE("splitter gives the same lines whether a read is cut anywhere or not at all", "[log]") {
  // NULs, an over-long line, CRLF, empty lines: blocks holding them go line by line.
  using namespace std::string_literals;
  std::string text = "a\nbb\r\n\ncc\0c\nddddddddddddd\ne\n\0\0\nfff\ng"s;
  Collect whole;
  LineSplitter one(8);
  std::string copy = text;
  one.feed(copy.data(), copy.size(), whole);
  one.flush(whole);
  CHECK(whole.lines == std::vector<std::string>{"a", "bb", "", "ccc", "dddddddd", "e", "fff", "g"});
  CHECK(whole.skipped == 5);
  for (size_t cut1 = 0; cut1 <= text.size(); ++cut1) {
    for (size_t cut2 = cut1; cut2 <= text.size(); cut2 += 3) {
      CountBlocks parts;
      LineSplitter s(8);
      feed(s, text.substr(0, cut1), parts);
      feed(s, text.substr(cut1, cut2 - cut1), parts);
      feed(s, text.substr(cut2), parts);
      s.flush(parts);
      CAPTURE(cut1, cut2);
      CHECK(parts.lines == whole.lines);
      CHECK(parts.skipped == whole.skipped);
    }
  }
}

}  // namespace
}  // namespace vigil
