#include "agent/util/literal_search.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

namespace vigil {
namespace {

const std::vector<std::string> kLiterals = {
    "Failed password for ",
    "segfault at ",
    "Out of memory: Kill",
    " timed out",
    "I/O error, dev ",
    ") FAILED",
    "Kernel panic - not syncing",
    "authentication failure;",
    "No space left on device",
    "Connection reset by peer",
};

// What find() promises, by brute force: the answer is an occurrence inside
// hay[from, size), and no occurrence ends at or before its start.
void check_find(const LiteralSearch& s, const std::string& hay, size_t from) {
  size_t got = s.find(hay, from);
  size_t first_end = std::string::npos;  // the end of the occurrence that ends first
  for (const std::string& lit : kLiterals) {
    for (size_t at = hay.find(lit, from); at != std::string::npos; at = hay.find(lit, at + 1)) {
      first_end = std::min(first_end, at + lit.size());
    }
  }
  if (first_end == std::string::npos) {
    CHECK(got == std::string::npos);
    return;
  }
  REQUIRE(got != std::string::npos);
  CHECK(got >= from);
  bool is_occurrence = false;
  for (const std::string& lit : kLiterals) {
    is_occurrence = is_occurrence || hay.compare(got, lit.size(), lit) == 0;
  }
  CHECK(is_occurrence);
  CHECK(got < first_end);
}

TEST_CASE("literal search finds a literal at every offset around its 32- and 64-byte steps",
          "[log]") {
  auto s = LiteralSearch::build(kLiterals);
  if (!s) {
    WARN("no AVX2 on this CPU: the scalar prefilter is used instead");
    return;
  }
  const std::string filler = "Nov  3 10:00:00 web-01 sshd[42]: Accepted publickey for x\n";
  for (const std::string& lit : kLiterals) {
    for (size_t at = 0; at < 140; ++at) {
      std::string hay;
      while (hay.size() < at) {
        hay += filler;
      }
      hay.resize(at);
      hay += lit;
      hay += filler.substr(0, at % 7);
      CAPTURE(lit, at);
      CHECK(s->find(hay, 0) == at);
      check_find(*s, hay, at % 5);
      // From just past its start, this occurrence no longer counts.
      CHECK(s->find(hay, at + 1) == std::string::npos);
    }
  }
}

TEST_CASE("literal search agrees with brute force on random log text", "[log]") {
  auto s = LiteralSearch::build(kLiterals);
  if (!s) {
    WARN("no AVX2 on this CPU: the scalar prefilter is used instead");
    return;
  }
  std::mt19937 rng(7);
  const std::string alphabet = "aeiou tnrs:;-/()FIKNOCa0123456789\n";
  for (int round = 0; round < 300; ++round) {
    std::string hay;
    size_t len = rng() % 400;
    while (hay.size() < len) {
      if (rng() % 40 == 0) {
        hay += kLiterals[rng() % kLiterals.size()];
      } else {
        hay += alphabet[rng() % alphabet.size()];
      }
    }
    CAPTURE(hay);
    check_find(*s, hay, hay.empty() ? 0 : rng() % hay.size());
  }
}

TEST_CASE("literal search is not built for literals shorter than its fingerprint", "[log]") {
  CHECK_FALSE(LiteralSearch::build({"ab"}).has_value());
  CHECK_FALSE(LiteralSearch::build({}).has_value());
}

}  // namespace
}  // namespace vigil
