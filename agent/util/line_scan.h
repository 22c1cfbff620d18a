#pragma once

#include <cstddef>
#include <string_view>

namespace vigil {

// What one pass over a block of whole lines finds out, so that a reader can hand
// the block to a matcher at once instead of line by line.
struct LineScan {
  size_t lines = 0;    // newlines in the block
  bool clean = false;  // no NUL byte, and no line (without its '\n') longer than max_line
};

// Counts the lines of `text`, which ends with '\n', and tells whether it holds a NUL
// byte or a line over max_line bytes (the cases a line splitter treats one line at
// a time). With AVX2 (checked at run time) and max_line >= 64, 64 bytes a turn:
// one compare for '\n', one for NUL, a popcount, and the distance from the last
// newline of the previous 64 bytes to the first of these, since lines inside 64
// bytes are shorter than 64; otherwise memchr line by line.
LineScan scan_lines(std::string_view text, size_t max_line);

// The same, one line at a time whatever the CPU: the reference for tests.
LineScan scan_lines_scalar(std::string_view text, size_t max_line);

}  // namespace vigil
