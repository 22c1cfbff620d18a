#include "agent/util/literal_prefilter.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace vigil {
namespace {

TEST_CASE("required literal is the longest run every match must contain", "[log]") {
  CHECK(required_literal("Failed password for (invalid user )?\\w+") == "Failed password for ");
  CHECK(required_literal("CMD \\(.*\\) FAILED") == ") FAILED");
  CHECK(required_literal("Out of memory: Kill(ed)? process \\d+") == "Out of memory: Kill");
  CHECK(required_literal("colou?r error") == "r error");
  CHECK(required_literal("ab{2}cd") == "cd");
  CHECK(required_literal("x{1,3}yz[a-z]+ok") == "yz");
  CHECK(required_literal("segfault at [0-9a-f]+") == "segfault at ");
  CHECK(required_literal("a+bcd") == "bcd");
  CHECK(required_literal("\\.conf\\b") == ".conf");
}

TEST_CASE("required literal gives up where it cannot be sure", "[log]") {
  CHECK(required_literal("foo|bar") == "");
  CHECK(required_literal("(?i)error") == "");
  CHECK(required_literal("(*UTF)caf\xc3\xa9?") == "");
  CHECK(required_literal("\\x41BCDEF") == "");
  CHECK(required_literal("\\QERROR\\E") == "");
  CHECK(required_literal("[unclosed") == "");
}

TEST_CASE("prefilter never rejects a line that contains a literal", "[log]") {
  std::vector<std::string> literals = {"No space left", "panic: ", "timed out"};
  auto f = LiteralPrefilter::build(literals);
  REQUIRE(f.has_value());
  CHECK(f->stride() == 4);  // the shortest literal, "panic: ", has 7 bytes
  // Every placement of every literal, at every alignment to the stride.
  for (const std::string& lit : literals) {
    for (size_t pad = 0; pad < 12; ++pad) {
      std::string line = std::string(pad, '.') + lit + std::string(pad % 5, '-');
      CHECK(f->may_match(line));
    }
  }
  CHECK_FALSE(f->may_match("Nov 24 12:00:00 host sshd[1]: Accepted publickey for deploy"));
  CHECK_FALSE(f->may_match("No space"));
  CHECK_FALSE(f->may_match(""));
}

TEST_CASE("prefilter is not built for literals shorter than four bytes", "[log]") {
  CHECK_FALSE(LiteralPrefilter::build({"abcd", "xyz"}).has_value());
  CHECK_FALSE(LiteralPrefilter::build({}).has_value());
}

}  // namespace
}  // namespace vigil
