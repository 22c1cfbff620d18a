#pragma once

#include <sys/statvfs.h>

// What `df` shows for one file system, from its statvfs.
namespace vigil {

struct DiskUsage {
  double used_percent = 0;         // df's Use%, unrounded
  double free_bytes = 0;           // f_bavail × f_frsize: what unprivileged users may write
  double inodes_used_percent = 0;  // df -i's IUse%, unrounded; 0 without inodes
  double readonly = 0;             // 1 when mounted read-only
};

// df (coreutils) counts used = total − free and shows used / (used + available),
// where available leaves out the blocks reserved for root: so a full disk reads
// 100% even with its reserve untouched. Inodes likewise. A file system that
// reports no blocks or no inodes (procfs, some FUSE) reads 0.
DiskUsage disk_usage(const struct statvfs& st);

}  // namespace vigil
