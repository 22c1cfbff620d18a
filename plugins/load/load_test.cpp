#include "plugins/load/load.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

using test::metric;

std::string testdata(const std::string& rel) {
  return test::source_dir() + "/plugins/load/testdata/" + rel;
}

std::unique_ptr<Collector> make_load() { return test::make_collector(kLoadPlugin); }
Result<Sample> read_case(const std::string& name) {
  CollectContext ctx;
  ctx.procfs = testdata(name);
  return make_load()->read(ctx);
}

}  // namespace

TEST_CASE("load on the real host gives non-negative figures", "[host]") {
  Result<Sample> s = make_load()->read(CollectContext{});
  REQUIRE(s.ok());
  REQUIRE(s->metrics.size() == 4);
  for (const auto& [name, value] : s->metrics) {
    INFO(name);
    CHECK(value >= 0);
  }
  CHECK(metric(s.value(), "load1_per_cpu") <= metric(s.value(), "load1"));
}

TEST_CASE("load divides load1 by the cpuN lines of proc stat", "[host]") {
  Result<Sample> s = read_case("normal");
  REQUIRE(s.ok());
  CHECK(s->metrics[0].first == "load1");
  CHECK(metric(s.value(), "load1") == Approx(2.0));
  CHECK(metric(s.value(), "load5") == Approx(1.5));
  CHECK(metric(s.value(), "load15") == Approx(0.75));
  CHECK(metric(s.value(), "load1_per_cpu") == Approx(0.5));
}

TEST_CASE("load counts only the cpus left after a hot-unplug", "[host]") {
  Result<Sample> s = read_case("hotplug");
  REQUIRE(s.ok());
  CHECK(metric(s.value(), "load1_per_cpu") == Approx(0.5));
}

TEST_CASE("load errors name the file", "[host]") {
  CHECK(read_case("garbage").error() ==
        testdata("garbage/loadavg") + ": malformed load figure '0.5x'");
  CHECK(read_case("empty").error() ==
        testdata("empty/loadavg") + ": fewer than three load figures");
  CHECK(read_case("short").error() ==
        testdata("short/loadavg") + ": fewer than three load figures");
  CHECK(read_case("no_cpu_lines").error() ==
        testdata("no_cpu_lines/stat") + ": no cpuN line to divide load1 by");
  CHECK_THAT(read_case("nowhere").error(),
             Catch::StartsWith("cannot open " + testdata("nowhere/loadavg")));
}

}  // namespace vigil
