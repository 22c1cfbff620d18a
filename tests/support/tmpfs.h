#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace vigil::test {

// A real, small tmpfs mounted on `path` (root only: CI runs as root), so that a
// test meets a real ENOSPC. mounted() is false when the mount was refused; the
// test then says so and skips its full-disk part.
class Tmpfs {
 public:
  Tmpfs(std::string path, const std::string& size) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    std::string opts = "size=" + size + ",mode=0755";
    mounted_ = mount("tmpfs", path_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_) {
      error_ = strerror(errno);
    }
  }
  ~Tmpfs() {
    if (mounted_) {
      umount2(path_.c_str(), MNT_DETACH);
    }
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }  // why the mount was refused
  // Writes a filler file until the file system is full; returns its path.
  std::string fill() const {
    std::string filler = path_ + "/filler";
    int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    static const char zeros[4096] = {};
    while (fd >= 0 && write(fd, zeros, sizeof zeros) > 0) {
    }
    if (fd >= 0) {
      close(fd);
    }
    return filler;
  }
  void free_filler() const { unlink((path_ + "/filler").c_str()); }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace vigil::test
