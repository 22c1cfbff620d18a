#include "plugins/disk/disk_usage.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

struct statvfs fs(unsigned long blocks, unsigned long bfree, unsigned long bavail) {
  struct statvfs st {};
  st.f_frsize = 4096;
  st.f_bsize = 4096;
  st.f_blocks = blocks;
  st.f_bfree = bfree;
  st.f_bavail = bavail;
  st.f_files = 1000;
  st.f_ffree = 600;
  st.f_favail = 600;
  return st;
}

}  // namespace

TEST_CASE("disk used percent leaves out the root reserve as df does", "[host]") {
  // 700 blocks used, 300 free of which 50 reserved for root.
  DiskUsage u = disk_usage(fs(1000, 300, 250));
  CHECK(u.used_percent == Approx(100.0 * 700 / 950));
  CHECK(u.free_bytes == 250.0 * 4096);
  CHECK(u.inodes_used_percent == Approx(40));
  CHECK(u.readonly == 0);
}

TEST_CASE("disk full up to the root reserve reads 100 percent", "[host]") {
  DiskUsage u = disk_usage(fs(1000, 50, 0));
  CHECK(u.used_percent == 100);
  CHECK(u.free_bytes == 0);
}

TEST_CASE("disk without blocks or inodes reads 0, not NaN", "[host]") {
  struct statvfs st {};
  DiskUsage u = disk_usage(st);
  CHECK(u.used_percent == 0);
  CHECK(u.inodes_used_percent == 0);
  CHECK(u.free_bytes == 0);
}

TEST_CASE("disk read-only mount reads 1", "[host]") {
  struct statvfs st = fs(1000, 300, 250);
  st.f_flag = ST_RDONLY | ST_NOSUID;
  CHECK(disk_usage(st).readonly == 1);
}

TEST_CASE("disk inodes use df's formula", "[host]") {
  struct statvfs st = fs(1000, 300, 250);
  st.f_files = 1000;
  st.f_ffree = 200;
  st.f_favail = 100;
  CHECK(disk_usage(st).inodes_used_percent == Approx(100.0 * 800 / 900));
}

}  // namespace vigil
