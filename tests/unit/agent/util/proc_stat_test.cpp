#include "agent/util/proc_stat.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

// The cpu plugin's fixtures: the input of one of its testcases, or one of the two
// readings of its testdata (delta_first, delta_second).
std::string fixture(const std::string& name) {
  return test::source_dir() + "/plugins/cpu/testcases/" + name + "/stat";
}

std::string reading(const std::string& name) {
  return test::source_dir() + "/plugins/cpu/testdata/" + name + "/stat";
}

}  // namespace

TEST_CASE("proc stat of a 4-cpu machine gives the aggregate line and counts cpuN lines", "[host]") {
  Result<ProcStat> stat = read_proc_stat(fixture("linux_4cpu"), true);
  REQUIRE(stat.ok());
  CHECK(stat->cpu.user == 1000);
  CHECK(stat->cpu.nice == 100);
  CHECK(stat->cpu.system == 500);
  CHECK(stat->cpu.idle == 8000);
  CHECK(stat->cpu.iowait == 200);
  CHECK(stat->cpu.irq == 50);
  CHECK(stat->cpu.softirq == 50);
  CHECK(stat->cpu.steal == 100);
  CHECK(stat->cpu.guest == 30);
  CHECK(stat->cpu_count == 4);
}

TEST_CASE("proc stat stops after the aggregate line when cpus are not counted", "[host]") {
  Result<ProcStat> stat = read_proc_stat(fixture("linux_4cpu"), false);
  REQUIRE(stat.ok());
  CHECK(stat->cpu.user == 1000);
  CHECK(stat->cpu_count == 0);
}

TEST_CASE("proc stat counts the cpu lines left after a hot-unplug", "[host]") {
  Result<ProcStat> stat = read_proc_stat(fixture("hotplug"), true);
  REQUIRE(stat.ok());
  CHECK(stat->cpu_count == 3);
  CHECK(stat->cpu.idle == 8000);
}

TEST_CASE("proc stat of a 2.4 kernel with four columns reads the rest as zero", "[host]") {
  Result<ProcStat> stat = read_proc_stat(fixture("old_kernel"), true);
  REQUIRE(stat.ok());
  CHECK(stat->cpu.user == 3000);
  CHECK(stat->cpu.system == 1000);
  CHECK(stat->cpu.idle == 6000);
  CHECK(stat->cpu.iowait == 0);
  CHECK(stat->cpu.steal == 0);
  CHECK(stat->cpu_count == 2);
  CpuPercents p = cpu_percents(nullptr, stat->cpu);
  CHECK(p.usage == Approx(40));
  CHECK(p.user == Approx(30));
  CHECK(p.system == Approx(10));
  CHECK(p.iowait == 0);
  CHECK(p.steal == 0);
}

TEST_CASE("proc stat without steal or guest columns gives zero steal", "[host]") {
  Result<ProcStat> stat = read_proc_stat(fixture("no_steal"), true);
  REQUIRE(stat.ok());
  CpuPercents p = cpu_percents(nullptr, stat->cpu);
  CHECK(p.usage == Approx(35));
  CHECK(p.user == Approx(20));
  CHECK(p.system == Approx(10));
  CHECK(p.iowait == Approx(5));
  CHECK(p.steal == 0);
}

TEST_CASE("proc stat ignores a cut last line", "[host]") {
  Result<ProcStat> stat = read_proc_stat(fixture("truncated"), true);
  REQUIRE(stat.ok());
  CHECK(stat->cpu_count == 2);
  CHECK(stat->cpu.user == 1000);
}

TEST_CASE("proc stat errors are values naming the file", "[host]") {
  struct Case {
    const char* name;
    const char* message;
  };
  const Case cases[] = {
      {"empty", "no complete cpu line"},
      {"truncated_total", "no complete cpu line"},
      {"no_cpu_lines", "no complete cpu line"},
      {"garbage", "malformed number '1x0' in the cpu line"},
      {"few_columns", "the cpu line has 3 columns, at least 4 expected"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Result<ProcStat> stat = read_proc_stat(fixture(c.name), true);
    REQUIRE_FALSE(stat.ok());
    CHECK_THAT(stat.error(), Catch::Contains(c.message));
    CHECK_THAT(stat.error(), Catch::Contains(fixture(c.name)));
  }
  Result<ProcStat> missing = read_proc_stat(fixture("nowhere"), true);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error(), Catch::StartsWith("cannot open " + fixture("nowhere")));
}

TEST_CASE("proc stat text parser agrees with the file reader", "[host]") {
  Result<ProcStat> stat =
      parse_proc_stat("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4\ncpu1 1 2", true);
  REQUIRE(stat.ok());
  CHECK(stat->cpu.guest_nice == 10);
  CHECK(stat->cpu_count == 1);
  CHECK_FALSE(parse_proc_stat("", true).ok());
  CHECK_FALSE(parse_proc_stat("cpu  99999999999999999999999 1 2 3\n", true).ok());
}

TEST_CASE("cpu shares since boot come from the first reading", "[host]") {
  Result<ProcStat> stat = read_proc_stat(fixture("linux_4cpu"), false);
  REQUIRE(stat.ok());
  CpuPercents p = cpu_percents(nullptr, stat->cpu);
  CHECK(p.usage == Approx(18));
  CHECK(p.user == Approx(10));
  CHECK(p.system == Approx(5));
  CHECK(p.iowait == Approx(2));
  CHECK(p.steal == Approx(1));
}

TEST_CASE("cpu shares between two readings use the deltas", "[host]") {
  Result<ProcStat> first = read_proc_stat(reading("delta_first"), false);
  Result<ProcStat> second = read_proc_stat(reading("delta_second"), false);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CpuPercents p = cpu_percents(&first->cpu, second->cpu);
  // Deltas: user 600, system 300, idle 800, iowait 100, steal 200 of 2000 ticks.
  CHECK(p.usage == Approx(55));
  CHECK(p.user == Approx(30));
  CHECK(p.system == Approx(15));
  CHECK(p.iowait == Approx(5));
  CHECK(p.steal == Approx(10));
}

TEST_CASE("cpu shares fall back to since boot when counters go backwards or stand still",
          "[host]") {
  Result<ProcStat> first = read_proc_stat(reading("delta_first"), false);
  Result<ProcStat> second = read_proc_stat(reading("delta_second"), false);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CpuPercents reset = cpu_percents(&second->cpu, first->cpu);
  CHECK(reset.usage == Approx(18));
  CHECK(reset.steal == Approx(1));
  CpuPercents still = cpu_percents(&second->cpu, second->cpu);
  CpuPercents boot = cpu_percents(nullptr, second->cpu);
  CHECK(still.usage == Approx(boot.usage));
  CHECK(still.iowait == Approx(boot.iowait));
}

TEST_CASE("cpu shares count a column going backwards as zero time in it", "[host]") {
  CpuTimes prev{.user = 100, .system = 100, .idle = 700, .iowait = 100};
  CpuTimes cur{.user = 200, .system = 100, .idle = 790, .iowait = 95};
  CpuPercents p = cpu_percents(&prev, cur);
  // Deltas: user 100, idle 90, iowait counted 0 instead of −5.
  CHECK(p.iowait == 0);
  CHECK(p.usage == Approx(100.0 * 100 / 190));
  CHECK(p.user == Approx(100.0 * 100 / 190));
}

TEST_CASE("cpu shares of an all-zero reading are zero, not NaN", "[host]") {
  CpuTimes zero;
  CpuPercents p = cpu_percents(nullptr, zero);
  CHECK(p.usage == 0);
  CHECK(p.user == 0);
  CpuPercents again = cpu_percents(&zero, zero);
  CHECK_FALSE(std::isnan(again.usage));
  CHECK(again.usage == 0);
}

}  // namespace vigil
