#include "plugins/cpu/cpu.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testcases.h"

namespace vigil {
namespace {

using test::metric;

// Fixtures of the hand-written tests below; plugins/cpu/testcases/ holds the
// input -> output cases.
std::string testdata(const std::string& rel) {
  return test::source_dir() + "/plugins/cpu/testdata/" + rel;
}

std::string testcase(const std::string& rel) {
  return test::source_dir() + "/plugins/cpu/testcases/" + rel;
}

std::string slurp(const std::string& path) {
  Result<std::string> text = read_file(path);
  REQUIRE(text.ok());
  return text.value();
}

std::unique_ptr<Collector> make_cpu(const std::string& cgroup = "") {
  if (cgroup.empty()) {
    return test::make_collector(kCpuPlugin);
  }
  return test::make_collector(kCpuPlugin, {{"cgroup", cgroup}});
}
}  // namespace

TEST_CASE("cpu on the real host gives shares between 0 and 100", "[host]") {
  std::unique_ptr<Collector> cpu = make_cpu();
  CollectContext ctx;
  for (int i = 0; i < 2; ++i) {
    Result<Sample> s = cpu->read(ctx);
    REQUIRE(s.ok());
    REQUIRE(s->metrics.size() == 5);
    for (const auto& [name, value] : s->metrics) {
      INFO(name);
      CHECK(value >= 0);
      CHECK(value <= 100);
    }
    CHECK(metric(s.value(), "user_percent") + metric(s.value(), "system_percent") <=
          metric(s.value(), "usage_percent") + 1e-9);
  }
}

TEST_CASE("cpu reports since boot first and then the delta to the previous reading", "[host]") {
  test::TempDir proc;
  proc.write("stat", slurp(testdata("delta_first/stat")));
  std::unique_ptr<Collector> cpu = make_cpu();
  CollectContext ctx;
  ctx.procfs = proc.path();
  Result<Sample> first = cpu->read(ctx);
  REQUIRE(first.ok());
  CHECK(metric(first.value(), "usage_percent") == Approx(18));
  CHECK(metric(first.value(), "steal_percent") == Approx(1));

  proc.write("stat", slurp(testdata("delta_second/stat")));
  Result<Sample> second = cpu->read(ctx);
  REQUIRE(second.ok());
  CHECK(metric(second.value(), "usage_percent") == Approx(55));
  CHECK(metric(second.value(), "user_percent") == Approx(30));
  CHECK(metric(second.value(), "system_percent") == Approx(15));
  CHECK(metric(second.value(), "iowait_percent") == Approx(5));
  CHECK(metric(second.value(), "steal_percent") == Approx(10));
  // The metrics come in the order the plugin declares them.
  REQUIRE(second->metrics.size() == 5);
  CHECK(second->metrics[0].first == "usage_percent");
  CHECK(second->metrics[4].first == "steal_percent");
}

// One reading of each folder of plugins/cpu/testcases/: in once mode the shares
// are those since boot, and an error names the file it read.
TEST_CASE("cpu reads each of its testcases as expected.out says", "[host]") {
  CHECK(test::check_testcases(kCpuPlugin) > 0);
}

TEST_CASE("cpu rejects a relative cgroup at its line", "[host]") {
  Section s;
  s.type = "cpu";
  s.file = "vigil.ini";
  s.entries.push_back(Entry{"cgroup", "app.slice", "vigil.ini", 7});
  PluginConfig config{s, "cpu", "/proc", "/sys"};
  Result<std::unique_ptr<Collector>> c = kCpuPlugin.create(config);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().line == 7);
}

TEST_CASE("cpu with a cgroup reports usage over its quota from the second reading", "[host]") {
  test::TempDir dir;
  const std::string cg = "/sys/fs/cgroup/app.slice/web.service";
  dir.write("proc/stat", slurp(testdata("cgroup/proc/stat")));
  dir.write("cg/cpu.max", slurp(testdata("cgroup" + cg + "/cpu.max")));
  dir.write("cg/cpu.stat", slurp(testdata("cgroup" + cg + "/cpu.stat")));
  std::unique_ptr<Collector> cpu = make_cpu(dir.file("cg"));
  CollectContext ctx;
  ctx.procfs = dir.file("proc");
  ctx.now = MonotonicTime(std::chrono::hours(1));

  Result<Sample> first = cpu->read(ctx);
  REQUIRE(first.ok());
  // No rate yet: only the host figures.
  CHECK(first->find("usage_percent") == nullptr);
  CHECK(metric(first.value(), "iowait_percent") == Approx(2));
  CHECK(metric(first.value(), "steal_percent") == Approx(1));

  // 10 s later, 10 s of CPU time were used of the 2 CPUs the quota allows.
  dir.write("cg/cpu.stat", "usage_usec 11000000\nuser_usec 6600000\nsystem_usec 4400000\n");
  ctx.now += std::chrono::seconds(10);
  Result<Sample> second = cpu->read(ctx);
  REQUIRE(second.ok());
  CHECK(metric(second.value(), "usage_percent") == Approx(50));
  CHECK(metric(second.value(), "user_percent") == Approx(30));
  CHECK(metric(second.value(), "system_percent") == Approx(20));
  CHECK(second->metrics.size() == 5);

  // A limit of max means every CPU of procfs (4 here).
  dir.write("cg/cpu.max", "max 100000\n");
  dir.write("cg/cpu.stat", "usage_usec 21000000\nuser_usec 12600000\nsystem_usec 8400000\n");
  ctx.now += std::chrono::seconds(10);
  Result<Sample> third = cpu->read(ctx);
  REQUIRE(third.ok());
  CHECK(metric(third.value(), "usage_percent") == Approx(25));
  CHECK(metric(third.value(), "user_percent") == Approx(15));

  // A recreated cgroup (counters back to small values) starts a new rate.
  dir.write("cg/cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\n");
  ctx.now += std::chrono::seconds(10);
  Result<Sample> fourth = cpu->read(ctx);
  REQUIRE(fourth.ok());
  CHECK(fourth->find("usage_percent") == nullptr);
}

TEST_CASE("cpu with cgroup auto in once mode takes two readings", "[host]") {
  std::unique_ptr<Collector> cpu = make_cpu("auto");
  CollectContext ctx;
  ctx.procfs = testdata("cgroup/proc");
  ctx.sysfs = testdata("cgroup/sys");
  ctx.once = true;
  auto t0 = std::chrono::steady_clock::now();
  Result<Sample> s = cpu->read(ctx);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(s.ok());
  // The fixture's counters do not move between the two readings.
  CHECK(metric(s.value(), "usage_percent") == 0);
  CHECK(metric(s.value(), "user_percent") == 0);
  CHECK(metric(s.value(), "iowait_percent") == Approx(2));
  CHECK(took >= std::chrono::milliseconds(100));
}

TEST_CASE("cpu with a cgroup fails naming a missing or malformed file", "[host]") {
  CollectContext ctx;
  ctx.procfs = testcase("linux_4cpu");
  SECTION("missing cpu.max") {
    std::unique_ptr<Collector> cpu = make_cpu(testdata("cgroup_missing_max"));
    Result<Sample> s = cpu->read(ctx);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error() ==
          "cannot open " + testdata("cgroup_missing_max/cpu.max") + ": No such file or directory");
  }
  SECTION("malformed cpu.stat") {
    std::unique_ptr<Collector> cpu = make_cpu(testdata("cgroup_garbage"));
    Result<Sample> s = cpu->read(ctx);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error() ==
          testdata("cgroup_garbage/cpu.stat") + ": malformed number 'lots' for user_usec");
  }
  SECTION("auto without a cgroup v2 line") {
    test::TempDir dir;
    dir.write("proc/stat", slurp(testcase("linux_4cpu/stat")));
    dir.write("proc/self/cgroup", "4:memory:/x\n");
    ctx.procfs = dir.file("proc");
    std::unique_ptr<Collector> cpu = make_cpu("auto");
    Result<Sample> s = cpu->read(ctx);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::Contains("/self/cgroup: no cgroup v2 line"));
  }
}

}  // namespace vigil
