#include "plugins/load/loadavg.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("loadavg gives the three load figures", "[host]") {
  Result<LoadAverage> l = parse_loadavg("0.52 0.58 0.59 1/389 12345\n");
  REQUIRE(l.ok());
  CHECK(l->load1 == Approx(0.52));
  CHECK(l->load5 == Approx(0.58));
  CHECK(l->load15 == Approx(0.59));
  CHECK(parse_loadavg("12.00 8.25 4.10").value().load15 == Approx(4.10));
}

TEST_CASE("loadavg errors on short or garbage text", "[host]") {
  CHECK(parse_loadavg("").error() == "fewer than three load figures");
  CHECK(parse_loadavg("0.52 0.58").error() == "fewer than three load figures");
  CHECK(parse_loadavg("0.52 x 0.59 1/2 3\n").error() == "malformed load figure 'x'");
  CHECK_FALSE(parse_loadavg("0.52 inf 0.59 1/2 3\n").ok());
}

}  // namespace vigil
