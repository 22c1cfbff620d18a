#include "agent/util/line_matcher.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace vigil {
namespace {

std::vector<PatternText> pats(std::vector<std::string> texts) {
  std::vector<PatternText> out;
  for (auto& t : texts) {
    out.push_back(PatternText{t, "f.ini", 3});
  }
  return out;
}

TEST_CASE("matcher counts a line matching any pattern unless an exclude matches", "[log]") {
  auto m = LineMatcher::create(pats({"ERROR \\d+", "panic"}), pats({"ignored"}));
  REQUIRE(m.ok());
  CHECK(m->match_programs() == 1);
  CHECK(m->matches("x ERROR 42 y"));
  CHECK(m->matches("kernel panic"));
  CHECK_FALSE(m->matches("ERROR x"));
  CHECK_FALSE(m->matches("ERROR 42 but ignored"));
  CHECK_FALSE(m->matches(""));
}

TEST_CASE("matcher gives every variant the same answers", "[log]") {
  std::vector<std::string> lines = {
      "Nov 24 host sshd[1]: Failed password for invalid user admin from 10.0.0.1",
      "Nov 24 host CRON[2]: (root) CMD (run-parts) FAILED with 1",
      "Nov 24 host kernel: Out of memory: Killed process 12 (java)",
      "Nov 24 host kernel: Out of memory: Kill process 12 (java)",
      "Nov 24 host app: all good",
      "Failed password",
      std::string("bin\xff\xfe\0ary FAILED", 17),
  };
  auto patterns = pats({"Failed password for (invalid user )?\\w+", "CMD \\(.*\\) FAILED",
                        "Out of memory: Kill(ed)? process \\d+"});
  auto bytes = GENERATE(0, 1, 2, 3);
  LineMatcher::Options opts{.combine = (bytes & 1) != 0, .prefilter = (bytes & 2) != 0};
  auto m = LineMatcher::create(patterns, {}, opts);
  auto reference = LineMatcher::create(patterns, {}, {.combine = false, .prefilter = false});
  REQUIRE(m.ok());
  REQUIRE(reference.ok());
  CHECK(m->has_prefilter() == opts.prefilter);
  std::vector<bool> got;
  std::vector<bool> want;
  for (const auto& l : lines) {
    got.push_back(m->matches(l));
    want.push_back(reference->matches(l));
  }
  CHECK(got == want);
  CHECK(want == std::vector<bool>{true, true, true, true, false, false, false});
}

// Lines as a LineSplitter cuts them from `block`, and those matches() takes.
std::vector<std::string> matching_one_by_one(const LineMatcher& m, const std::string& block) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t nl = block.find('\n', pos);
    std::string line = block.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (m.matches(line)) {
      out.push_back(line);
    }
    pos = nl + 1;
  }
  return out;
}

std::vector<std::string> matching_in_block(const LineMatcher& m, const std::string& block) {
  std::vector<std::string> out;
  size_t n = m.match_lines(block, [&](std::string_view line) { out.emplace_back(line); });
  CHECK(n == out.size());
  return out;
}

TEST_CASE("matcher finds in a block of lines the lines it matches one by one", "[log]") {
  // Anchors, a literal in a line that does not match, CRLF, invalid UTF-8, an
  // exclude, the literal at a block's first and last byte, long lines that put
  // occurrences across the SIMD search's 32- and 64-byte steps.
  std::string block =
      "Failed password for root\n"
      "x Failed password for bob\n"
      "Failed password for bob\r\n"
      "\n"
      "\xff\xfe Out of memory: Killed process 9 \xc3\n"
      "Out of memory: Kill process x\n" +
      std::string(61, '.') + "(cron) CMD (run) FAILED\n" + std::string(200, 'z') +
      " error: upstream timed out\n"
      "error: skip timed out\n"
      "tail error: a timed out";
  block += "\n";
  auto patterns = pats({"^Failed password for (invalid user )?\\w+$", "CMD \\(.*\\) FAILED",
                        "Out of memory: Kill(ed)? process \\d+", "error: .*timed out$"});
  auto excludes = pats({"skip"});
  auto opts =
      GENERATE(LineMatcher::Options{true, true, true}, LineMatcher::Options{true, true, false},
               LineMatcher::Options{false, true, true}, LineMatcher::Options{true, false, true});
  auto m = LineMatcher::create(patterns, excludes, opts);
  REQUIRE(m.ok());
  CHECK(m->has_prefilter() == opts.prefilter);
  auto want = matching_one_by_one(*m, block);
  CHECK(want == std::vector<std::string>{"Failed password for root", "Failed password for bob",
                                         "\xff\xfe Out of memory: Killed process 9 \xc3",
                                         std::string(61, '.') + "(cron) CMD (run) FAILED",
                                         std::string(200, 'z') + " error: upstream timed out",
                                         "tail error: a timed out"});
  CHECK(matching_in_block(*m, block) == want);
}

TEST_CASE("matcher goes line by line through a block when a pattern has no usable literal",
          "[log]") {
  // (?i) and a pattern without 4 literal bytes: the prefilter would miss lines.
  std::string block = "disk ERROR here\nall fine\nid 123 seen\r\nid x\n";
  for (auto patterns : {pats({"(?i)error", "seen"}), pats({"ERROR", "\\d{3}"})}) {
    auto m = LineMatcher::create(patterns, {});
    REQUIRE(m.ok());
    CHECK_FALSE(m->has_prefilter());
    CHECK(matching_in_block(*m, block) ==
          std::vector<std::string>{"disk ERROR here", "id 123 seen"});
  }
}

TEST_CASE("matcher keeps patterns with backreferences apart", "[log]") {
  auto m = LineMatcher::create(pats({"(a)x", "(b)\\1"}), {});
  REQUIRE(m.ok());
  CHECK(m->match_programs() == 2);
  CHECK(m->matches("zbb"));
  CHECK_FALSE(m->matches("zba"));
}

TEST_CASE("matcher reports an invalid regex at its line", "[log]") {
  auto m = LineMatcher::create(pats({"ok", "bad("}), {});
  REQUIRE_FALSE(m.ok());
  CHECK(m.error_info().file == "f.ini");
  CHECK(m.error_info().line == 3);
  CHECK(m.error().find("bad(") != std::string::npos);
}

}  // namespace
}  // namespace vigil
