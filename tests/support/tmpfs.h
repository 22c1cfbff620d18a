#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>

namespace vigil::test {

// A real, small tmpfs mounted on `path` (root only: CI runs as root), so that a
// test meets a real ENOSPC. mounted() is false when the mount was refused; the
// test then says so and skips its full-disk part.
class Tmpfs {
 public:
  Tmpfs(std::string path, const std::string& size) : path_(std::move(path)) {
    std::string opts = "size=" + size + ",mode=0755";
    mounted_ = geteuid() == 0 && mount("tmpfs", path_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~Tmpfs() {
    if (mounted_) {
      umount2(path_.c_str(), MNT_DETACH);
    }
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
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
};

}  // namespace vigil::test
