#include "plugins/memory/memory.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testcases.h"

namespace vigil {
namespace {

using test::metric;

// Fixtures of the hand-written tests below; plugins/memory/testcases/ holds the
// input -> output cases.
std::string testdata(const std::string& rel) {
  return test::source_dir() + "/plugins/memory/testdata/" + rel;
}

std::string testcase(const std::string& rel) {
  return test::source_dir() + "/plugins/memory/testcases/" + rel;
}

std::unique_ptr<Collector> make_memory(const std::string& cgroup = "") {
  if (cgroup.empty()) {
    return test::make_collector(kMemoryPlugin);
  }
  return test::make_collector(kMemoryPlugin, {{"cgroup", cgroup}});
}
}  // namespace

TEST_CASE("memory on the real host gives sane figures", "[host]") {
  std::unique_ptr<Collector> memory = make_memory();
  Result<Sample> s = memory->read(CollectContext{});
  REQUIRE(s.ok());
  REQUIRE(s->metrics.size() == 4);
  CHECK(metric(s.value(), "available_bytes") > 0);
  for (const char* name : {"used_percent", "available_percent", "swap_used_percent"}) {
    INFO(name);
    CHECK(metric(s.value(), name) >= 0);
    CHECK(metric(s.value(), name) <= 100);
  }
  CHECK(metric(s.value(), "used_percent") + metric(s.value(), "available_percent") == Approx(100));
}

// One reading of each folder of plugins/memory/testcases/: meminfo under the
// procfs root, or an error naming it (no MemAvailable before Linux 3.14).
TEST_CASE("memory reads each of its testcases as expected.out says", "[host]") {
  CHECK(test::check_testcases(kMemoryPlugin) > 0);
}

TEST_CASE("memory with cgroup auto is relative to the agent's cgroup limit", "[host]") {
  std::unique_ptr<Collector> memory = make_memory("auto");
  CollectContext ctx;
  ctx.procfs = testdata("cgroup/proc");
  ctx.sysfs = testdata("cgroup/sys");
  Result<Sample> s = memory->read(ctx);
  REQUIRE(s.ok());
  CHECK(metric(s.value(), "used_percent") == Approx(48.828125));
  CHECK(metric(s.value(), "available_bytes") == 549453824.0);
  CHECK(metric(s.value(), "available_percent") == Approx(51.171875));
  CHECK(metric(s.value(), "swap_used_percent") == Approx(25));  // the host's
}

TEST_CASE("memory with a cgroup limit of max uses the host's MemTotal", "[host]") {
  std::unique_ptr<Collector> memory = make_memory(testdata("cgroup_unlimited"));
  CollectContext ctx;
  ctx.procfs = testcase("linux_6");
  Result<Sample> s = memory->read(ctx);
  REQUIRE(s.ok());
  // Working set 500 MiB of 16000000 kB.
  CHECK(metric(s.value(), "used_percent") == Approx(3.2));
  CHECK(metric(s.value(), "available_bytes") == 15859712000.0);
  CHECK(metric(s.value(), "available_percent") == Approx(96.8));
}

TEST_CASE("memory with a cgroup fails naming a missing or malformed file", "[host]") {
  CollectContext ctx;
  ctx.procfs = testcase("linux_6");
  SECTION("missing memory.stat") {
    Result<Sample> s = make_memory(testdata("cgroup_missing_stat"))->read(ctx);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error() == "cannot open " + testdata("cgroup_missing_stat/memory.stat") +
                           ": No such file or directory");
  }
  SECTION("malformed memory.current") {
    Result<Sample> s = make_memory(testdata("cgroup_garbage"))->read(ctx);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error() == testdata("cgroup_garbage/memory.current") + ": malformed byte count 'lots'");
  }
  SECTION("a folder that does not exist") {
    Result<Sample> s = make_memory(testdata("nowhere"))->read(ctx);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::StartsWith("cannot open " + testdata("nowhere/memory.max")));
  }
}

TEST_CASE("memory with cgroup auto follows a moved agent after a failure", "[host]") {
  test::TempDir dir;
  dir.write("proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
  dir.write("proc/self/cgroup", "0::/a\n");
  dir.write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  dir.write("sys/fs/cgroup/b/memory.current", "600\n");
  dir.write("sys/fs/cgroup/b/memory.max", "1000\n");
  dir.write("sys/fs/cgroup/b/memory.stat", "inactive_file 100\n");
  std::unique_ptr<Collector> memory = make_memory("auto");
  CollectContext ctx;
  ctx.procfs = dir.file("proc");
  ctx.sysfs = dir.file("sys");
  Result<Sample> first = memory->read(ctx);
  REQUIRE_FALSE(first.ok());
  CHECK_THAT(first.error(), Catch::Contains("/fs/cgroup/a/memory.max"));
  dir.write("proc/self/cgroup", "0::/b\n");
  Result<Sample> second = memory->read(ctx);
  REQUIRE(second.ok());
  CHECK(metric(second.value(), "used_percent") == Approx(50));
}

}  // namespace vigil
