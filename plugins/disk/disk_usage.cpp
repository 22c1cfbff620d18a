#include "plugins/disk/disk_usage.h"

namespace vigil {
namespace {

// 100·(total − free)/(total − free + avail), as df computes it. free above total
// (a racy statvfs of a busy file system) counts as nothing used.
double df_percent(unsigned long long total, unsigned long long free, unsigned long long avail) {
  unsigned long long used = total > free ? total - free : 0;
  double denominator = static_cast<double>(used) + static_cast<double>(avail);
  if (denominator <= 0) {
    return 0;
  }
  double p = 100.0 * static_cast<double>(used) / denominator;
  return p > 100 ? 100 : p;
}

}  // namespace

DiskUsage disk_usage(const struct statvfs& st) {
  DiskUsage out;
  out.used_percent = df_percent(st.f_blocks, st.f_bfree, st.f_bavail);
  out.free_bytes = static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize);
  out.inodes_used_percent = st.f_files == 0 ? 0 : df_percent(st.f_files, st.f_ffree, st.f_favail);
  out.readonly = (st.f_flag & ST_RDONLY) != 0 ? 1 : 0;
  return out;
}

}  // namespace vigil
