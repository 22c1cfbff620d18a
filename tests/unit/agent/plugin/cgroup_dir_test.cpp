#include "agent/plugin/cgroup_dir.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

Section section_with(std::string value) {
  Section s;
  s.type = "cpu";
  s.file = "vigil.ini";
  s.line = 3;
  if (!value.empty()) {
    s.entries.push_back(Entry{"cgroup", std::move(value), "vigil.ini", 4});
  }
  return s;
}

}  // namespace

TEST_CASE("cgroup setting is the host by default and with none", "[host]") {
  CHECK(parse_cgroup_setting(section_with("")).value().mode == CgroupSetting::Mode::kHost);
  CHECK(parse_cgroup_setting(section_with("none")).value().mode == CgroupSetting::Mode::kHost);
}

TEST_CASE("cgroup setting takes auto or an absolute folder", "[host]") {
  CHECK(parse_cgroup_setting(section_with("auto")).value().mode == CgroupSetting::Mode::kAuto);
  Result<CgroupSetting> path = parse_cgroup_setting(section_with("/sys/fs/cgroup/app.slice/"));
  REQUIRE(path.ok());
  CHECK(path->mode == CgroupSetting::Mode::kPath);
  CHECK(path->path == "/sys/fs/cgroup/app.slice");
}

TEST_CASE("cgroup setting rejects a relative folder at its line", "[host]") {
  Result<CgroupSetting> bad = parse_cgroup_setting(section_with("app.slice"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error_info().line == 4);
  CHECK(bad.error_info().file == "vigil.ini");
  CHECK_THAT(bad.error(), Catch::Contains("'app.slice'"));
}

TEST_CASE("self cgroup gives the v2 path on a hybrid host", "[host]") {
  Result<std::string_view> p =
      parse_self_cgroup("4:memory:/x\n1:name=systemd:/y\n0::/app.slice/web\n");
  REQUIRE(p.ok());
  CHECK(p.value() == "/app.slice/web");
  CHECK_FALSE(parse_self_cgroup("4:memory:/x\n1:cpu:/\n").ok());
  CHECK_FALSE(parse_self_cgroup("").ok());
  CHECK_FALSE(parse_self_cgroup("0::/cut").ok());  // unterminated: cut by a short read
}

TEST_CASE("cgroup auto joins the self path under the sysfs cgroup mount", "[host]") {
  std::string root = test::source_dir() + "/plugins/cpu/testdata/cgroup";
  CgroupSetting s;
  s.mode = CgroupSetting::Mode::kAuto;
  Result<std::string> dir = resolve_cgroup_dir(s, root + "/proc", root + "/sys");
  REQUIRE(dir.ok());
  CHECK(dir.value() == root + "/sys/fs/cgroup/app.slice/web.service");
}

TEST_CASE("cgroup auto at the root cgroup is the mount itself", "[host]") {
  test::TempDir dir;
  dir.write("proc/self/cgroup", "0::/\n");
  dir.write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  CgroupSetting s;
  s.mode = CgroupSetting::Mode::kAuto;
  Result<std::string> got = resolve_cgroup_dir(s, dir.file("proc"), dir.file("sys"));
  REQUIRE(got.ok());
  CHECK(got.value() == dir.file("sys") + "/fs/cgroup");
}

TEST_CASE("cgroup auto without a v2 line names the file", "[host]") {
  test::TempDir dir;
  dir.write("proc/self/cgroup", "4:memory:/x\n");
  CgroupSetting s;
  s.mode = CgroupSetting::Mode::kAuto;
  Result<std::string> got = resolve_cgroup_dir(s, dir.file("proc"), dir.file("sys"));
  REQUIRE_FALSE(got.ok());
  CHECK_THAT(got.error(), Catch::StartsWith(dir.file("proc") + "/self/cgroup: no cgroup v2 line"));
}

TEST_CASE("cgroup auto on a cgroup v1 host says so and how to get host figures", "[host]") {
  // A hybrid host: /proc/self/cgroup has a 0::/ line, but /sys/fs/cgroup holds
  // v1 hierarchies (cpu/, memory/, unified/), not cgroup v2's files.
  test::TempDir dir;
  dir.write("proc/self/cgroup", "4:memory:/x\n1:cpu:/\n0::/\n");
  dir.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  dir.write("sys/fs/cgroup/unified/cgroup.procs", "1\n");
  CgroupSetting s;
  s.mode = CgroupSetting::Mode::kAuto;
  Result<std::string> got = resolve_cgroup_dir(s, dir.file("proc"), dir.file("sys"));
  REQUIRE_FALSE(got.ok());
  CHECK(got.error() == dir.file("sys") +
                           "/fs/cgroup is not a cgroup v2 mount (no cgroup.controllers): this host "
                           "runs cgroup v1, and cgroup = auto reads cgroup v2 only; set cgroup = "
                           "none for the host's figures");
}

}  // namespace vigil
