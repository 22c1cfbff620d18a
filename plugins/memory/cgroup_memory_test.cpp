#include "plugins/memory/cgroup_memory.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("cgroup memory files parse bytes, max and inactive_file", "[host]") {
  CHECK(parse_cgroup_bytes("629145600\n").value() == 629145600);
  CHECK_FALSE(parse_cgroup_bytes("lots\n").ok());
  CHECK_FALSE(parse_cgroup_bytes("").ok());
  bool unlimited = false;
  CHECK(parse_cgroup_memory_max("1073741824\n", &unlimited).value() == 1073741824);
  CHECK_FALSE(unlimited);
  CHECK(parse_cgroup_memory_max("max\n", &unlimited).ok());
  CHECK(unlimited);
  CHECK(parse_inactive_file("anon 1\ninactive_anon 5\ninactive_file 77\nactive_file 3\n").value() ==
        77);
  CHECK(parse_inactive_file("anon 1\n").error() == "no inactive_file line");
  CHECK(parse_inactive_file("inactive_file x\n").error() == "malformed inactive_file value 'x'");
}

TEST_CASE("cgroup memory is the working set over the limit", "[host]") {
  // 600 MiB in use, 100 MiB inactive file cache, 1 GiB limit.
  MemoryFigures f = cgroup_memory(629145600, 104857600, 1073741824);
  CHECK(f.used_percent == Approx(48.828125));
  CHECK(f.available_bytes == 549453824.0);
  CHECK(f.available_percent == Approx(51.171875));
}

TEST_CASE("cgroup memory above its limit or with a zero limit stays in range", "[host]") {
  MemoryFigures over = cgroup_memory(2000, 0, 1000);
  CHECK(over.used_percent == 100);
  CHECK(over.available_bytes == 0);
  CHECK(over.available_percent == 0);
  MemoryFigures zero = cgroup_memory(0, 0, 0);
  CHECK(zero.used_percent == 100);
  CHECK(zero.available_bytes == 0);
  MemoryFigures cache_only = cgroup_memory(100, 500, 1000);
  CHECK(cache_only.used_percent == 0);
  CHECK(cache_only.available_bytes == 1000.0);
}

}  // namespace vigil
