#include "plugins/disk/disk.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

using test::metric;

std::unique_ptr<Collector> make_disk(const std::string& path) {
  return test::make_collector(kDiskPlugin, {{"path", path}});
}
}  // namespace

TEST_CASE("disk on a temporary folder gives sane figures", "[host]") {
  test::TempDir dir;
  Result<Sample> s = make_disk(dir.path())->read(CollectContext{});
  REQUIRE(s.ok());
  REQUIRE(s->metrics.size() == 4);
  CHECK(s->metrics[0].first == "used_percent");
  CHECK(metric(s.value(), "used_percent") >= 0);
  CHECK(metric(s.value(), "used_percent") <= 100);
  CHECK(metric(s.value(), "free_bytes") > 0);
  CHECK(metric(s.value(), "inodes_used_percent") >= 0);
  CHECK(metric(s.value(), "inodes_used_percent") <= 100);
  CHECK(metric(s.value(), "readonly") == 0);
}

TEST_CASE("disk of a missing path fails naming it", "[host]") {
  test::TempDir dir;
  Result<Sample> s = make_disk(dir.file("gone"))->read(CollectContext{});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error() == "cannot statvfs " + dir.file("gone") + ": No such file or directory");
}

TEST_CASE("disk may block and so runs on the thread pool", "[host]") {
  CHECK(kDiskPlugin.may_block);
}

}  // namespace vigil
