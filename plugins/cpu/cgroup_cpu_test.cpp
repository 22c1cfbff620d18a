#include "plugins/cpu/cgroup_cpu.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("cgroup cpu stat reads the three usec counters", "[host]") {
  Result<CgroupCpuStat> s = parse_cgroup_cpu_stat(
      "usage_usec 2814151\nuser_usec 1843224\nsystem_usec 970927\nnr_periods 0\n");
  REQUIRE(s.ok());
  CHECK(s->usage_usec == 2814151);
  CHECK(s->user_usec == 1843224);
  CHECK(s->system_usec == 970927);
}

TEST_CASE("cgroup cpu stat errors name the missing or malformed counter", "[host]") {
  CHECK(parse_cgroup_cpu_stat("usage_usec 1\nuser_usec 2\n").error() == "no system_usec line");
  CHECK(parse_cgroup_cpu_stat("").error() == "no usage_usec line");
  CHECK(parse_cgroup_cpu_stat("usage_usec 1\nuser_usec x\nsystem_usec 3\n").error() ==
        "malformed number 'x' for user_usec");
  // A cut last line does not count.
  CHECK_FALSE(parse_cgroup_cpu_stat("usage_usec 1\nuser_usec 2\nsystem_usec 3").ok());
}

TEST_CASE("cgroup cpu max gives the CPUs of the quota or 0 for max", "[host]") {
  CHECK(parse_cgroup_cpu_max("200000 100000\n").value() == Approx(2.0));
  CHECK(parse_cgroup_cpu_max("50000 100000\n").value() == Approx(0.5));
  CHECK(parse_cgroup_cpu_max("max 100000\n").value() == 0);
  CHECK(parse_cgroup_cpu_max("150000").value() == Approx(1.5));
  CHECK_FALSE(parse_cgroup_cpu_max("").ok());
  CHECK_FALSE(parse_cgroup_cpu_max("lots 100000\n").ok());
  CHECK_FALSE(parse_cgroup_cpu_max("0 100000\n").ok());
  CHECK_FALSE(parse_cgroup_cpu_max("100000 0\n").ok());
  CHECK_FALSE(parse_cgroup_cpu_max("1 2 3\n").ok());
}

TEST_CASE("cgroup cpu percents are usage over quota times elapsed", "[host]") {
  CgroupCpuStat prev{.usage_usec = 1000000, .user_usec = 600000, .system_usec = 400000};
  CgroupCpuStat cur{.usage_usec = 11000000, .user_usec = 6600000, .system_usec = 4400000};
  CgroupCpuPercents p;
  REQUIRE(cgroup_cpu_percents(prev, cur, 10e6, 2.0, &p));
  CHECK(p.usage == Approx(50));
  CHECK(p.user == Approx(30));
  CHECK(p.system == Approx(20));
  REQUIRE(cgroup_cpu_percents(prev, cur, 10e6, 0.5, &p));
  CHECK(p.usage == 100);  // over the quota by jitter: clamped
}

TEST_CASE("cgroup cpu percents need time and forward counters", "[host]") {
  CgroupCpuStat prev{.usage_usec = 1000, .user_usec = 600, .system_usec = 400};
  CgroupCpuStat back{.usage_usec = 10, .user_usec = 6, .system_usec = 4};
  CgroupCpuPercents p;
  CHECK_FALSE(cgroup_cpu_percents(prev, prev, 0, 2.0, &p));
  CHECK_FALSE(cgroup_cpu_percents(prev, back, 1e6, 2.0, &p));
  CHECK_FALSE(cgroup_cpu_percents(prev, prev, 1e6, 0, &p));
  REQUIRE(cgroup_cpu_percents(prev, prev, 1e6, 2.0, &p));
  CHECK(p.usage == 0);
}

}  // namespace vigil
