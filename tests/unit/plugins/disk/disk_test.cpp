#include "plugins/disk/disk.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

std::unique_ptr<Collector> make_disk(const std::string& path) {
  Section s;
  s.type = "disk";
  s.file = "vigil.ini";
  s.line = 1;
  s.entries.push_back(Entry{"path", path, "vigil.ini", 2});
  PluginConfig config{s, "disk", "/proc", "/sys"};
  Result<std::unique_ptr<Collector>> c = kDiskPlugin.create(config);
  REQUIRE(c.ok());
  return std::move(c.value());
}

double metric(const Sample& s, std::string_view name) {
  const double* v = s.find(name);
  REQUIRE(v != nullptr);
  return *v;
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
