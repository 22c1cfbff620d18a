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
