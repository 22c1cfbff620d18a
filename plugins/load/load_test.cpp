#include "plugins/load/load.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testcases.h"

namespace vigil {
namespace {

using test::metric;

std::unique_ptr<Collector> make_load() { return test::make_collector(kLoadPlugin); }

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

// One reading of each folder of plugins/load/testcases/: load1 divided by the
// cpuN lines of proc stat (those left after a hot-unplug), or an error naming the
// file.
TEST_CASE("load reads each of its testcases as expected.out says", "[host]") {
  CHECK(test::check_testcases(kLoadPlugin) > 0);
}

TEST_CASE("load fails naming loadavg when procfs has none", "[host]") {
  CollectContext ctx;
  ctx.procfs = test::source_dir() + "/plugins/load/nowhere";
  CHECK_THAT(make_load()->read(ctx).error(),
             Catch::StartsWith("cannot open " + ctx.procfs + "/loadavg"));
}

}  // namespace vigil
