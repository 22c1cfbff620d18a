#include "plugins/log/line_splitter.h"

#include <algorithm>
#include <cstring>

#include "agent/util/line_scan.h"

namespace vigil {
namespace {

// Removes NULs in place and returns the new length; the common case (none) costs
// one memchr.
size_t remove_nuls(char* p, size_t n) {
  if (n == 0 || memchr(p, '\0', n) == nullptr) {
    return n;
  }
  return static_cast<size_t>(std::remove(p, p + n, '\0') - p);
}

}  // namespace

void LineSplitter::emit(const char* p, size_t n, LineHandler& sink) {
  if (n > 0 && p[n - 1] == '\r') {
    --n;
  }
  sink.on_line(std::string_view(p, n));
}

void LineHandler::on_lines(std::string_view lines, size_t count) {
  (void)count;
  size_t pos = 0;
  while (pos < lines.size()) {
    size_t nl = lines.find('\n', pos);
    size_t end = nl == std::string_view::npos ? lines.size() : nl;
    size_t len = end - pos;
    if (len > 0 && lines[end - 1] == '\r') {
      --len;
    }
    on_line(lines.substr(pos, len));
    pos = end + 1;
  }
}

void LineSplitter::feed(char* data, size_t n, LineHandler& sink) {
  if (n == 0) {
    return;
  }
  char* end = data + n;
  auto* first = static_cast<char*>(memchr(data, '\n', n));
  if (first == nullptr) {
    feed_lines(data, end, sink);
    return;
  }
  // The first line may end one begun by an earlier feed: alone, with the state.
  char* p = first + 1;
  feed_lines(data, p, sink);
  auto* last = static_cast<char*>(memrchr(p, '\n', static_cast<size_t>(end - p)));
  if (last != nullptr) {
    // Whole lines, each after a newline of this feed: no carry, no skipping.
    std::string_view block(p, static_cast<size_t>(last + 1 - p));
    LineScan scan = scan_lines(block, max_line_);
    if (scan.clean) {
      sink.on_lines(block, scan.lines);
    } else {
      feed_lines(p, last + 1, sink);
    }
    p = last + 1;
  }
  feed_lines(p, end, sink);
}

void LineSplitter::feed_lines(char* p, char* end, LineHandler& sink) {
  while (p < end) {
    auto* nl = static_cast<char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    char* seg_end = nl != nullptr ? nl : end;
    size_t raw = static_cast<size_t>(seg_end - p);
    size_t len = remove_nuls(p, raw);

    if (skipping_) {
      // The rest of an over-long line: count it, keep nothing.
      if (len > 0) {
        sink.on_skipped(len);
      }
      if (nl != nullptr) {
        skipping_ = false;
        pending_raw_ = 0;
      }
    } else if (nl == nullptr) {
      // An unfinished line: keep up to max_line_ of it.
      pending_raw_ += raw;
      size_t room = max_line_ - carry_.size();
      if (len <= room) {
        carry_.append(p, len);
      } else {
        carry_.append(p, room);
        emit(carry_.data(), carry_.size(), sink);
        sink.on_skipped(len - room);
        carry_.clear();
        skipping_ = true;
        pending_raw_ = 0;
      }
    } else {
      bool only_nuls = len == 0 && carry_.empty() && raw + pending_raw_ > 0;
      if (only_nuls) {
        // A run of NULs is no line.
      } else if (carry_.empty()) {
        // The common case: a whole line inside the buffer, matched in place.
        size_t take = std::min(len, max_line_);
        emit(p, take, sink);
        if (len > take) {
          sink.on_skipped(len - take);
        }
      } else {
        size_t take = std::min(len, max_line_ - carry_.size());
        carry_.append(p, take);
        emit(carry_.data(), carry_.size(), sink);
        if (len > take) {
          sink.on_skipped(len - take);
        }
        carry_.clear();
      }
      pending_raw_ = 0;
    }
    p = nl != nullptr ? nl + 1 : end;
  }
}

void LineSplitter::flush(LineHandler& sink) {
  if (!carry_.empty()) {
    emit(carry_.data(), carry_.size(), sink);
  }
  carry_.clear();
  pending_raw_ = 0;
  skipping_ = false;
}

uint64_t LineSplitter::reset() {
  uint64_t dropped = carry_.size();
  carry_.clear();
  // Release the memory of a long partial line: a truncated file starts small.
  carry_.shrink_to_fit();
  pending_raw_ = 0;
  skipping_ = false;
  return dropped;
}

}  // namespace vigil
