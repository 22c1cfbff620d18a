#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/util/result.h"

namespace vigil {

// A regex as configured, with its place for error messages.
struct PatternText {
  std::string text;
  std::string file;
  int line = 0;
};

// Decides whether a line counts: it matches a `match` pattern and no `exclude`
// pattern. PCRE2 with JIT, in byte mode (a log line need not be valid UTF-8).
//
// - The match patterns run in one pass, as one alternation (?:p1)|(?:p2)… compiled
//   once, unless one of them uses backreferences, whose numbers the alternation
//   would shift (or the alternation does not compile): then each runs on its own.
// - When every match pattern has a required literal of 4 bytes or more, a
//   LiteralPrefilter rules out most lines before PCRE2 runs.
// - match_lines() takes a block of whole lines: with the prefilter it searches the
//   block for the literals (SIMD, see LiteralSearch) and runs PCRE2 only on the
//   lines that hold one; so most lines cost no call at all, not even a lookup.
// - Exclude patterns run only on lines that matched.
// - A match limit bounds the work one pathological line can cost; a line that hits
//   it does not count.
class LineMatcher {
 public:
  struct Options {
    bool combine = true;    // one alternation for all match patterns
    bool prefilter = true;  // the literal prefilter, when possible
    bool simd = true;       // its SIMD search over blocks, when the CPU has it
  };

  static Result<LineMatcher> create(const std::vector<PatternText>& match,
                                    const std::vector<PatternText>& exclude);
  static Result<LineMatcher> create(const std::vector<PatternText>& match,
                                    const std::vector<PatternText>& exclude, Options options);
  // Compiles one pattern alone: the check create() does for each `match` line.
  static Status validate(const PatternText& pattern);

  LineMatcher(LineMatcher&&) noexcept;
  LineMatcher& operator=(LineMatcher&&) noexcept;
  ~LineMatcher();

  bool matches(std::string_view line) const;

  // Calls on_match for each line of `lines` that matches() and returns their count.
  // `lines` holds whole lines, each ended by '\n'; a line is what comes before its
  // '\n', less one '\r' at its end (as a LineSplitter cuts them).
  size_t match_lines(std::string_view lines,
                     const std::function<void(std::string_view)>& on_match) const;

  bool has_prefilter() const;
  bool has_simd_prefilter() const;
  size_t match_programs() const;  // 1 when the patterns run as one alternation

 private:
  struct Impl;
  explicit LineMatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
