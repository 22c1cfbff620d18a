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
