#include "agent/util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>

namespace vigil {
namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + strerror(errno);
}

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

// Reads fd to its end and closes it.
Result<std::string> read_all(int fd, const std::string& path, size_t max_bytes) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      Error e = make_error(errno_text("cannot read", path));
      close(fd);
      return e;
    }
    if (n == 0) {
      break;
    }
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      close(fd);
      return make_error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

}  // namespace

Status write_file_atomic(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return make_error(errno_text("cannot create", tmp));
  }
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      Error e = make_error(errno_text("cannot write", tmp));
      close(fd);
      unlink(tmp.c_str());
      return e;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    Error e = make_error(errno_text("cannot fsync", tmp));
    close(fd);
    unlink(tmp.c_str());
    return e;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = make_error(errno_text("cannot rename", tmp));
    unlink(tmp.c_str());
    return e;
  }
  int dfd = open(dirname_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    int rc = fsync(dfd);
    close(dfd);
    if (rc != 0) {
      return make_error(errno_text("cannot fsync folder of", path));
    }
  }
  return {};
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(errno_text("cannot open", path));
  }
  return read_all(fd, path, max_bytes);
}

std::string non_regular_kind(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "";
    case S_IFDIR:
      return "a folder";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
  }
  return "not a regular file";
}

Result<std::string> read_regular_file(const std::string& path, size_t max_bytes) {
  // stat first, so that a device is never opened (opening one may have an
  // effect: a tape rewinds, a terminal may become the controlling one).
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return make_error(errno_text("cannot open", path));
  }
  if (std::string kind = non_regular_kind(st.st_mode); !kind.empty()) {
    return make_error(path + " is " + kind + ", not a regular file");
  }
  // It may have been swapped since: O_NONBLOCK keeps the open of a FIFO from
  // waiting for a writer, and fstat says what was opened.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return make_error(errno_text("cannot open", path));
  }
  if (fstat(fd, &st) != 0) {
    Error e = make_error(errno_text("cannot stat", path));
    close(fd);
    return e;
  }
  if (std::string kind = non_regular_kind(st.st_mode); !kind.empty()) {
    close(fd);
    return make_error(path + " is " + kind + ", not a regular file");
  }
  return read_all(fd, path, max_bytes);
}

Status make_dirs(const std::string& path, unsigned mode) {
  if (path.empty()) {
    return {};
  }
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) {
      continue;
    }
    if (mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return make_error(errno_text("cannot create folder", cur));
    }
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error("not a folder: " + path);
  }
  return {};
}

std::string move_aside(const std::string& path) {
  std::string to = path + ".corrupt-" + std::to_string(static_cast<long long>(time(nullptr)));
  rename(path.c_str(), to.c_str());
  return to;
}

}  // namespace vigil
