#include "agent/util/host_text.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

namespace vigil::host_text {
namespace {

// read() that retries on EINTR; -1 with errno set on failure.
ssize_t read_retry(int fd, char* buf, size_t len) {
  while (true) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0 || errno != EINTR) {
      return n;
    }
  }
}

}  // namespace

std::string errno_message(std::string_view what, const std::string& path, int err) {
  std::string out(what);
  out += ' ';
  out += path;
  out += ": ";
  out += strerror(err);
  return out;
}

Result<std::string_view> read_small_file(const std::string& path, std::span<char> buf) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(errno_message("cannot open", path, errno));
  }
  // procfs hands out at most a page per read() for some files, so loop until end
  // of file or a full buffer.
  size_t used = 0;
  bool full = false;
  while (true) {
    if (used == buf.size()) {
      full = true;
      break;
    }
    ssize_t n = read_retry(fd, buf.data() + used, buf.size() - used);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(errno_message("cannot read", path, err));
    }
    if (n == 0) {
      break;
    }
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  std::string_view text(buf.data(), used);
  if (full) {
    size_t nl = text.rfind('\n');
    text = nl == std::string_view::npos ? std::string_view() : text.substr(0, nl + 1);
  }
  return text;
}

LineReader::~LineReader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status LineReader::open(const std::string& path) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  begin_ = end_ = 0;
  eof_ = false;
  skipping_ = false;
  read_errno_ = 0;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    return make_error(errno_message("cannot open", path, errno));
  }
  return {};
}

bool LineReader::fill() {
  if (eof_ || fd_ < 0) {
    return false;
  }
  if (begin_ > 0) {
    memmove(buf_, buf_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == sizeof(buf_)) {
    return false;
  }
  ssize_t n = read_retry(fd_, buf_ + end_, sizeof(buf_) - end_);
  if (n < 0) {
    read_errno_ = errno;
    eof_ = true;
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(n);
  return true;
}

bool LineReader::next(std::string_view* line) {
  while (true) {
    const char* start = buf_ + begin_;
    const void* nl = memchr(start, '\n', end_ - begin_);
    if (nl != nullptr) {
      size_t len = static_cast<size_t>(static_cast<const char*>(nl) - start);
      begin_ += len + 1;
      if (skipping_) {
        // The tail of an over-long line whose head was already handed out.
        skipping_ = false;
        continue;
      }
      *line = std::string_view(start, len);
      return true;
    }
    if (begin_ == 0 && end_ == sizeof(buf_)) {
      // No newline in a full buffer: hand out the head of this over-long line
      // (unless it is the middle of one already handed out) and skip the rest.
      bool was_skipping = std::exchange(skipping_, true);
      begin_ = end_ = 0;
      if (!was_skipping) {
        *line = std::string_view(buf_, sizeof(buf_));
        return true;
      }
    }
    if (!fill()) {
      return false;
    }
  }
}

std::string_view next_field(std::string_view* rest) {
  size_t i = 0;
  while (i < rest->size() && ((*rest)[i] == ' ' || (*rest)[i] == '\t')) {
    ++i;
  }
  size_t j = i;
  while (j < rest->size() && (*rest)[j] != ' ' && (*rest)[j] != '\t') {
    ++j;
  }
  std::string_view field = rest->substr(i, j - i);
  rest->remove_prefix(j);
  return field;
}

bool parse_u64(std::string_view field, uint64_t* out) {
  if (field.empty() || field[0] < '0' || field[0] > '9') {
    return false;
  }
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), *out);
  return ec == std::errc() && ptr == field.data() + field.size();
}

bool parse_double(std::string_view field, double* out) {
  if (field.empty() || field[0] < '0' || field[0] > '9') {
    return false;
  }
  for (char c : field) {
    if (c != '.' && (c < '0' || c > '9')) {
      return false;
    }
  }
  auto [ptr, ec] =
      std::from_chars(field.data(), field.data() + field.size(), *out, std::chars_format::fixed);
  return ec == std::errc() && ptr == field.data() + field.size() && std::isfinite(*out);
}

}  // namespace vigil::host_text
