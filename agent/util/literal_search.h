#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Finds any of a few literals in a buffer with SIMD, in the manner of the Teddy
// algorithm (Hyperscan's FDR, ripgrep's aho-corasick): every literal contributes a
// 3-byte fingerprint, chosen where its bytes are rarest in log text, and is put in
// one of 8 buckets. For each of the 3 fingerprint bytes two 16-entry tables, indexed
// by the byte's low and high nibble, give the buckets whose fingerprint has that
// nibble there; the AND of the 6 lookups (PSHUFB, 32 positions at a time with AVX2)
// leaves, at each position, the buckets whose fingerprint may start there. Each such
// candidate is confirmed by comparing the bucket's literals in full.
//
// Trade-offs: the nibble tables cannot tell apart two fingerprints of one bucket
// from their mixtures, so more literals mean more candidates to confirm; it pays
// while they are a few dozen. Needs AVX2 at run time (checked once): build() gives
// nullopt without it, and callers fall back to a scalar method.
class LiteralSearch {
 public:
  static constexpr size_t kFingerprint = 3;
  static constexpr size_t kBuckets = 8;

  // nullopt without AVX2, or when a literal is shorter than kFingerprint bytes.
  static std::optional<LiteralSearch> build(const std::vector<std::string>& literals);

  // The start of an occurrence of a literal that lies wholly in hay[from, size),
  // or npos. Candidates are confirmed in the order of their fingerprints, so the
  // one returned need not be the leftmost, but no occurrence lies wholly before it
  // (one that did would have had its fingerprint confirmed first): in text whose
  // literals never span a newline, it is in the first line that holds any.
  size_t find(std::string_view hay, size_t from) const;

  // The fingerprint chosen for a literal: its offset in the literal.
  size_t fingerprint_offset(size_t literal) const { return entries_[literal].offset; }

 private:
  struct Entry {
    std::string literal;
    uint32_t offset = 0;  // where its fingerprint starts in it
  };
  // For byte k of the fingerprint: buckets by low nibble, then by high nibble.
  alignas(32) uint8_t masks_[kFingerprint][2][16] = {};
  std::vector<Entry> entries_;
  std::vector<uint32_t> bucket_entries_[kBuckets];

  bool confirm(std::string_view hay, size_t from, size_t at, uint8_t buckets, size_t* start) const;
  size_t find_avx2(std::string_view hay, size_t from) const;
  size_t find_scalar(std::string_view hay, size_t from, size_t at) const;
};

}  // namespace vigil
