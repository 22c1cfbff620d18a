#include "agent/util/literal_search.h"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define VIGIL_LITERAL_SEARCH_X86 1
#endif

namespace vigil {
namespace {

// How common a byte is in log text, 0 (never seen) to 255 (the space): the
// fingerprint goes where the sum over its 3 bytes is lowest, so that few
// positions of ordinary lines pass the nibble tables. A guess from syslog, web
// and application logs: spaces, lower-case letters in English order, digits and
// the punctuation of timestamps, paths and key=value pairs are common; capitals
// less so; the rest is rare.
int byte_commonness(unsigned char c) {
  static constexpr std::string_view kLower = "etaoinsrhldcumfpgwybvkxjqz";
  static constexpr std::string_view kUpper = "ETAOINSRHLDCUMFPGWYBVKXJQZ";
  static constexpr std::string_view kPunct = ":.-/=_[]()\",'";
  if (c == ' ') {
    return 255;
  }
  if (c >= '0' && c <= '9') {
    return 230;
  }
  if (size_t i = kLower.find(static_cast<char>(c)); i != std::string_view::npos) {
    return 250 - static_cast<int>(i) * 3;
  }
  if (size_t i = kPunct.find(static_cast<char>(c)); i != std::string_view::npos) {
    return 200 - static_cast<int>(i) * 5;
  }
  if (size_t i = kUpper.find(static_cast<char>(c)); i != std::string_view::npos) {
    return 140 - static_cast<int>(i) * 2;
  }
  return 40;
}

bool have_avx2() {
#ifdef VIGIL_LITERAL_SEARCH_X86
  static const bool yes = __builtin_cpu_supports("avx2") != 0;
  return yes;
#else
  return false;
#endif
}

}  // namespace

std::optional<LiteralSearch> LiteralSearch::build(const std::vector<std::string>& literals) {
  if (!have_avx2() || literals.empty()) {
    return std::nullopt;
  }
  LiteralSearch s;
  for (const std::string& lit : literals) {
    if (lit.size() < kFingerprint) {
      return std::nullopt;
    }
    Entry e{lit, 0};
    int best = INT32_MAX;
    for (size_t off = 0; off + kFingerprint <= lit.size(); ++off) {
      int score = 0;
      for (size_t k = 0; k < kFingerprint; ++k) {
        score += byte_commonness(static_cast<unsigned char>(lit[off + k]));
      }
      if (score < best) {
        best = score;
        e.offset = static_cast<uint32_t>(off);
      }
    }
    s.entries_.push_back(std::move(e));
  }
  // Buckets: one literal each while there are empty ones; then each literal joins
  // the bucket to which its fingerprint adds the fewest nibbles, which keeps the
  // mixtures (and so the false candidates) few.
  auto new_bits = [&s](size_t bucket, const Entry& e) {
    int bits = 0;
    for (size_t k = 0; k < kFingerprint; ++k) {
      auto b = static_cast<unsigned char>(e.literal[e.offset + k]);
      bits += (s.masks_[k][0][b & 15] >> bucket & 1) == 0 ? 1 : 0;
      bits += (s.masks_[k][1][b >> 4] >> bucket & 1) == 0 ? 1 : 0;
    }
    return bits;
  };
  for (uint32_t i = 0; i < s.entries_.size(); ++i) {
    const Entry& e = s.entries_[i];
    size_t bucket = 0;
    if (i < kBuckets) {
      bucket = i;
    } else {
      int fewest = INT32_MAX;
      for (size_t b = 0; b < kBuckets; ++b) {
        int bits = new_bits(b, e);
        if (bits < fewest) {
          fewest = bits;
          bucket = b;
        }
      }
    }
    s.bucket_entries_[bucket].push_back(i);
    for (size_t k = 0; k < kFingerprint; ++k) {
      auto b = static_cast<unsigned char>(e.literal[e.offset + k]);
      s.masks_[k][0][b & 15] |= static_cast<uint8_t>(1u << bucket);
      s.masks_[k][1][b >> 4] |= static_cast<uint8_t>(1u << bucket);
    }
  }
  return s;
}

bool LiteralSearch::confirm(std::string_view hay, size_t from, size_t at, uint8_t buckets,
                            size_t* start) const {
  while (buckets != 0) {
    int bucket = std::countr_zero(buckets);
    buckets = static_cast<uint8_t>(buckets & (buckets - 1));
    for (uint32_t i : bucket_entries_[bucket]) {
      const Entry& e = entries_[i];
      if (at < from + e.offset) {
        continue;
      }
      size_t s = at - e.offset;
      if (s + e.literal.size() <= hay.size() &&
          memcmp(hay.data() + s, e.literal.data(), e.literal.size()) == 0) {
        *start = s;
        return true;
      }
    }
  }
  return false;
}

// The same lookups one position at a time: the last bytes of the buffer, where
// 32 positions plus the fingerprint's length do not fit.
size_t LiteralSearch::find_scalar(std::string_view hay, size_t from, size_t at) const {
  const auto* p = reinterpret_cast<const unsigned char*>(hay.data());
  for (size_t i = at; i + kFingerprint <= hay.size(); ++i) {
    uint8_t c = 0xFF;
    for (size_t k = 0; k < kFingerprint; ++k) {
      unsigned char b = p[i + k];
      c &= masks_[k][0][b & 15] & masks_[k][1][b >> 4];
    }
    size_t start = 0;
    if (c != 0 && confirm(hay, from, i, c, &start)) {
      return start;
    }
  }
  return std::string_view::npos;
}

size_t LiteralSearch::find(std::string_view hay, size_t from) const {
  if (from >= hay.size()) {
    return std::string_view::npos;
  }
  return find_avx2(hay, from);
}

#ifdef VIGIL_LITERAL_SEARCH_X86
namespace {

// The tables of one fingerprint byte, in both 128-bit lanes (PSHUFB looks up
// within a lane).
struct Tables {
  __m256i lo[LiteralSearch::kFingerprint];
  __m256i hi[LiteralSearch::kFingerprint];
};

// The buckets whose fingerprint may start at each of the 32 positions from p.
__attribute__((target("avx2"), always_inline)) inline __m256i candidates(const Tables& t,
                                                                         const char* p) {
  const __m256i low = _mm256_set1_epi8(0x0F);
  __m256i c = _mm256_set1_epi8(-1);
  for (size_t k = 0; k < LiteralSearch::kFingerprint; ++k) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + k));
    __m256i l = _mm256_shuffle_epi8(t.lo[k], _mm256_and_si256(v, low));
    __m256i h = _mm256_shuffle_epi8(t.hi[k], _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
    c = _mm256_and_si256(c, _mm256_and_si256(l, h));
  }
  return c;
}

__attribute__((target("avx2"), always_inline)) inline uint32_t nonzero_bytes(__m256i c) {
  return ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, _mm256_setzero_si256())));
}

}  // namespace

// 64 positions a turn, as two 32-byte halves whose candidates are looked at only
// when either has one (rare in log text: the common path is 12 PSHUFB and a test).
__attribute__((target("avx2"))) size_t LiteralSearch::find_avx2(std::string_view hay,
                                                                size_t from) const {
  const char* p = hay.data();
  const size_t n = hay.size();
  Tables t;
  for (size_t k = 0; k < kFingerprint; ++k) {
    t.lo[k] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(masks_[k][0])));
    t.hi[k] = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(masks_[k][1])));
  }
  alignas(32) uint8_t buckets[64];
  size_t start = 0;
  size_t i = from;
  while (i + 32 + kFingerprint - 1 <= n) {
    bool wide = i + 64 + kFingerprint - 1 <= n;
    __m256i c0 = candidates(t, p + i);
    __m256i c1 = wide ? candidates(t, p + i + 32) : _mm256_setzero_si256();
    __m256i any = _mm256_or_si256(c0, c1);
    if (_mm256_testz_si256(any, any) == 0) {
      uint64_t mask = nonzero_bytes(c0) | uint64_t{nonzero_bytes(c1)} << 32;
      _mm256_store_si256(reinterpret_cast<__m256i*>(buckets), c0);
      _mm256_store_si256(reinterpret_cast<__m256i*>(buckets + 32), c1);
      while (mask != 0) {
        int bit = std::countr_zero(mask);
        mask &= mask - 1;
        if (confirm(hay, from, i + static_cast<size_t>(bit), buckets[bit], &start)) {
          return start;
        }
      }
    }
    i += wide ? 64 : 32;
  }
  return find_scalar(hay, from, i);
}
#else
size_t LiteralSearch::find_avx2(std::string_view hay, size_t from) const {
  return find_scalar(hay, from, from);
}
#endif

}  // namespace vigil
