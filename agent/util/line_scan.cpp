#include "agent/util/line_scan.h"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define VIGIL_LINE_SCAN_X86 1
#endif

namespace vigil {

LineScan scan_lines_scalar(std::string_view text, size_t max_line) {
  LineScan s;
  s.clean = memchr(text.data(), '\0', text.size()) == nullptr;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const auto* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) {
      nl = end;
    } else {
      ++s.lines;
    }
    if (static_cast<size_t>(nl - p) > max_line) {
      s.clean = false;
    }
    p = nl + 1;
  }
  return s;
}

#ifdef VIGIL_LINE_SCAN_X86
namespace {

__attribute__((target("avx2,popcnt,bmi"))) LineScan scan_lines_avx2(std::string_view text,
                                                                    size_t max_line) {
  LineScan s;
  const char* p = text.data();
  const size_t n = text.size();
  const __m256i newline = _mm256_set1_epi8('\n');
  const __m256i zero = _mm256_setzero_si256();
  __m256i nuls = _mm256_setzero_si256();
  size_t line_start = 0;  // where the line being measured starts
  bool long_line = false;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    nuls = _mm256_or_si256(nuls, _mm256_cmpeq_epi8(_mm256_min_epu8(a, b), zero));
    uint64_t m =
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, newline))) |
        uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, newline)))} << 32;
    if (m == 0) {
      continue;
    }
    s.lines += static_cast<size_t>(__builtin_popcountll(m));
    long_line |= i + static_cast<size_t>(__builtin_ctzll(m)) - line_start > max_line;
    line_start = i + 64 - static_cast<size_t>(__builtin_clzll(m));
  }
  for (; i < n; ++i) {
    if (p[i] == '\n') {
      ++s.lines;
      long_line |= i - line_start > max_line;
      line_start = i + 1;
    } else if (p[i] == '\0') {
      long_line = true;  // not clean either way
    }
  }
  long_line |= n - line_start > max_line;
  s.clean = !long_line && _mm256_testz_si256(nuls, nuls) != 0;
  return s;
}

bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") != 0 &&
                          __builtin_cpu_supports("popcnt") != 0 &&
                          __builtin_cpu_supports("bmi") != 0;
  return yes;
}

}  // namespace
#endif

LineScan scan_lines(std::string_view text, size_t max_line) {
#ifdef VIGIL_LINE_SCAN_X86
  if (max_line >= 64 && have_avx2()) {
    return scan_lines_avx2(text, max_line);
  }
#endif
  return scan_lines_scalar(text, max_line);
}

}  // namespace vigil
