#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/util/literal_search.h"

namespace vigil {

// The longest run of literal bytes that every match of a PCRE2 pattern contains,
// or "" when none can be proven. Conservative: top-level alternation, inline
// option settings such as (?i), \Q…\E and anything it does not understand give "".
// Groups, classes, escapes like \d and quantified atoms end a run (an atom under
// ?, * or {…} is dropped from it).
std::string required_literal(std::string_view pattern);

// A cheap test that rules out most lines before the regex runs: a line can match
// only if it contains one of the required literals (one per pattern).
//
// How: every literal is at least min_len bytes long, so any occurrence covers a
// 4-byte window starting at a multiple of stride = min_len - 3 counted from the
// line's start. The filter hashes the 4 bytes at those positions only, looks them
// up in a bitmap of every 4-byte window of every literal (2^20 bits, 128 KiB, few
// false hits), and on a hit confirms the literal with memcmp at the offsets that
// window has in the literals. Measured on a syslog-like corpus with 10 patterns it
// lifts the rate from about 0.3 to 1.3 GB/s (plugins/log/README.md).
//
// find() looks through a whole block of lines at once instead: with AVX2 it runs
// a LiteralSearch (SIMD, several GB/s), otherwise the same sampling over the block
// (an occurrence lies in one line, so the stride argument holds for any start).
class LiteralPrefilter {
 public:
  static constexpr size_t kMinLiteral = 4;

  // Fails (nullopt) when a literal is shorter than kMinLiteral: a pattern without a
  // usable literal means every line must go to the regex anyway. simd = false
  // keeps find() on the sampling (for tests, and to compare in bench/).
  static std::optional<LiteralPrefilter> build(const std::vector<std::string>& literals,
                                               bool simd = true);

  // False only when no literal occurs in the line.
  bool may_match(std::string_view line) const;

  // The start of an occurrence of a literal that lies wholly in hay[from, size),
  // or npos; no occurrence lies wholly before the one returned (so in a block of
  // lines, it is in the first line after `from` that holds one).
  size_t find(std::string_view hay, size_t from) const;

  size_t stride() const { return stride_; }
  bool simd() const { return search_.has_value(); }

 private:
  size_t sample(std::string_view hay, size_t from) const;

  struct Gram {
    uint32_t value;   // the 4 bytes
    uint32_t offset;  // where they start in the literal
    uint32_t literal;
    uint32_t next;  // next gram in the same bucket, or kNone
  };
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  static constexpr int kBitmapBits = 20;
  static constexpr uint32_t kBuckets = 4096;

  static uint32_t hash(uint32_t v) { return (v * 0x9E3779B1u) >> (32 - kBitmapBits); }

  std::vector<std::string> literals_;
  std::optional<LiteralSearch> search_;
  std::vector<uint64_t> bitmap_;
  std::vector<uint32_t> heads_;  // bucket -> first gram
  std::vector<Gram> grams_;
  size_t min_len_ = 0;
  size_t stride_ = 1;
};

}  // namespace vigil
