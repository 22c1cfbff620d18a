#include "agent/outputs/line_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

namespace vigil {

LineSink::LineSink(std::string path) : path_(std::move(path)) {}

LineSink::~LineSink() {
  if (fd_ >= 0 && !path_.empty()) {
    close(fd_);
  }
}

void LineSink::send(const std::vector<SpoolEntry>& batch, std::function<void(SendOutcome)> done) {
  SendOutcome out;
  if (fd_ < 0) {
    fd_ = path_.empty() ? STDOUT_FILENO
                        : open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      out.kind = SendOutcome::Kind::kRetry;
      out.error = "cannot open " + path_ + ": " + strerror(errno);
      done(std::move(out));
      return;
    }
  }
  std::string buf;
  for (const SpoolEntry& e : batch) {
    buf += e.payload;
    buf += '\n';
  }
  // One write per batch keeps lines whole for a reader of the pipe.
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      out.kind = SendOutcome::Kind::kRetry;
      out.error = std::string("cannot write ") + (path_.empty() ? "stdout" : path_) + ": " +
                  strerror(errno);
      if (!path_.empty()) {
        close(fd_);
        fd_ = -1;
      }
      done(std::move(out));
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (!path_.empty()) {
    fdatasync(fd_);
  }
  done(std::move(out));
}

}  // namespace vigil
