#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "agent/util/result.h"

// Reading and tokenizing host text files (procfs, cgroupfs). The cpu, memory and
// load plugins read these files every interval on every server, so nothing here
// allocates on success: files are read into the caller's stack buffer.
namespace vigil::host_text {

// Reads path into buf until end of file or until buf is full. When the file is
// larger than buf, the text is cut after its last complete line so that a parser
// never sees half a number. Errors name the file.
Result<std::string_view> read_small_file(const std::string& path, std::span<char> buf);

// Streams the lines of a file of any size through a fixed buffer (/proc/stat on
// a large machine has one line per CPU and an `intr` line of several KiB).
class LineReader {
 public:
  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  Status open(const std::string& path);
  // The next complete line without its '\n'; false at the end of the file or on a
  // read error (then failed() is true). A line longer than the buffer comes cut to
  // the buffer's size and the rest of it is skipped. An unterminated last line is
  // dropped: procfs always ends lines, so it can only be a cut one.
  bool next(std::string_view* line);
  bool failed() const { return read_errno_ != 0; }
  int read_errno() const { return read_errno_; }

 private:
  bool fill();

  int fd_ = -1;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool skipping_ = false;  // inside the tail of an over-long line
  int read_errno_ = 0;
  char buf_[4096];
};

// Calls on_line(line) for each complete line of text; the unterminated last line
// of a cut file is dropped. Stops early when on_line returns false.
template <typename F>
void for_each_line(std::string_view text, F&& on_line) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      return;
    }
    if (!on_line(text.substr(start, nl - start))) {
      return;
    }
    start = nl + 1;
  }
}

// The next blank-separated field of *rest (spaces or tabs), consumed from it;
// empty when none is left.
std::string_view next_field(std::string_view* rest);

// A whole field of decimal digits that fits in 64 bits; false otherwise.
bool parse_u64(std::string_view field, uint64_t* out);
// A whole field holding a finite decimal number (no sign, no exponent).
bool parse_double(std::string_view field, double* out);

// Text of an errno value for an error message that names a file.
std::string errno_message(std::string_view what, const std::string& path, int err);

}  // namespace vigil::host_text
