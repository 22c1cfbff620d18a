#include "agent/util/line_scan.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

namespace vigil {
namespace {

TEST_CASE("line scan counts lines and flags NUL bytes and lines over max_line", "[log]") {
  std::string ok = std::string(100, 'a') + "\n" + std::string(200, 'b') + "\n\nc\n";
  LineScan s = scan_lines(ok, 200);
  CHECK(s.lines == 4);
  CHECK(s.clean);
  CHECK_FALSE(scan_lines(ok, 199).clean);  // the 200-byte line is one too long
  std::string nul = ok;
  nul[150] = '\0';
  CHECK(scan_lines(nul, 200).lines == 4);
  CHECK_FALSE(scan_lines(nul, 200).clean);
}

TEST_CASE("line scan gives the line-by-line answer for any text and max_line", "[log]") {
  std::mt19937 rng(11);
  for (int round = 0; round < 400; ++round) {
    std::string text;
    size_t len = rng() % 700;
    size_t line_len = 1 + rng() % 150;  // lines around the 64-byte step, and longer
    while (text.size() < len) {
      text += rng() % line_len == 0 ? '\n' : static_cast<char>('a' + rng() % 26);
      if (rng() % 5000 == 0) {
        text += '\0';
      }
    }
    text += '\n';
    size_t max_line = 1 + rng() % 160;
    CAPTURE(round, max_line);
    LineScan fast = scan_lines(text, max_line);
    LineScan slow = scan_lines_scalar(text, max_line);
    CHECK(fast.lines == slow.lines);
    CHECK(fast.clean == slow.clean);
  }
}

}  // namespace
}  // namespace vigil
