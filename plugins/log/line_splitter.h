#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

// Receives what a LineSplitter makes of a file's bytes.
class LineHandler {
 public:
  virtual ~LineHandler() = default;
  virtual void on_line(std::string_view line) = 0;
  // A block of `count` whole lines, each ended by '\n' (with a '\r' before it for
  // CRLF), none over max_line and without NUL bytes: what on_line would get line by
  // line, at once, so that a matcher can search the block as a whole. By default,
  // on_line for each.
  virtual void on_lines(std::string_view lines, size_t count);
  // Bytes of over-long lines beyond max_line, dropped unread.
  virtual void on_skipped(uint64_t bytes) = 0;
};

// Splits a file's bytes into lines with bounded memory.
//
// - NUL bytes (copytruncate leaves runs of them at a file's head when its writer
//   does not use O_APPEND) are removed before anything else: they count toward
//   neither max_line nor the skipped bytes, and a line made only of NULs is no line.
// - A line longer than max_line is cut: its first max_line bytes are a line, the
//   rest up to the next newline is skipped and reported (on_skipped). So the
//   splitter never holds more than max_line bytes of one line, and a huge line does
//   not stop the file (Fluent Bit's default does).
// - One trailing `\r` is dropped from each line (CRLF logs).
// - The lines between the first and the last newline of what is fed go to the
//   handler as one block (on_lines) when one pass (scan_lines) finds them plain:
//   no NUL, none over max_line. Otherwise, and for the lines at both ends, which
//   may continue or end a line of another read, one line at a time.
//
// The unfinished last line is kept in memory, not persisted: its raw size
// (pending_raw) tells the caller where to resume after a restart, so that the line
// is read again whole. While skipping the rest of an over-long line the caller
// persists the read position and the skipping flag instead.
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line) : max_line_(max_line) {}

  // Consumes the next bytes of the file; `data` is clobbered (NULs removed in place).
  void feed(char* data, size_t n, LineHandler& sink);
  // The file is finished for good (a rotated file closed): a partial line counts.
  void flush(LineHandler& sink);
  // Forgets the partial line (the file was truncated) and returns its size: bytes
  // seen but never counted as a line.
  uint64_t reset();

  bool skipping() const { return skipping_; }
  void set_skipping(bool skipping) { skipping_ = skipping; }
  // Raw bytes (NULs included) of the unfinished line fed so far, 0 while skipping.
  uint64_t pending_raw() const { return skipping_ ? 0 : pending_raw_; }
  size_t held_bytes() const { return carry_.size(); }

 private:
  void emit(const char* p, size_t n, LineHandler& sink);
  // One line at a time; `end` is just after a newline, or the end of the data.
  void feed_lines(char* p, char* end, LineHandler& sink);

  size_t max_line_;
  std::string carry_;  // the unfinished line, NULs removed, at most max_line_ bytes
  uint64_t pending_raw_ = 0;
  bool skipping_ = false;
};

}  // namespace vigil
