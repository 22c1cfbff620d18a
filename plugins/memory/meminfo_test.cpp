#include "plugins/memory/meminfo.h"

#include <catch2/catch.hpp>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

Result<MemInfo> parse_fixture(const std::string& name) {
  Result<std::string> text =
      read_file(test::source_dir() + "/plugins/memory/testcases/" + name + "/meminfo");
  REQUIRE(text.ok());
  return parse_meminfo(text.value());
}

}  // namespace

TEST_CASE("meminfo of a current kernel gives used, available and swap", "[host]") {
  Result<MemInfo> info = parse_fixture("linux_6");
  REQUIRE(info.ok());
  CHECK(info->total_bytes == 16000000ull * 1024);
  CHECK(info->available_bytes == 4000000ull * 1024);
  Result<MemoryFigures> f = host_memory(info.value());
  REQUIRE(f.ok());
  CHECK(f->used_percent == Approx(75));
  CHECK(f->available_bytes == 4096000000.0);
  CHECK(f->available_percent == Approx(25));
  CHECK(f->swap_used_percent == Approx(25));
}

TEST_CASE("meminfo without swap gives swap_used_percent 0", "[host]") {
  Result<MemInfo> info = parse_fixture("no_swap");
  REQUIRE(info.ok());
  Result<MemoryFigures> f = host_memory(info.value());
  REQUIRE(f.ok());
  CHECK(f->used_percent == Approx(25));
  CHECK(f->swap_used_percent == 0);
}

TEST_CASE("meminfo without MemAvailable is a clear error", "[host]") {
  Result<MemInfo> info = parse_fixture("no_available");
  REQUIRE(info.ok());
  Result<MemoryFigures> f = host_memory(info.value());
  REQUIRE_FALSE(f.ok());
  CHECK(f.error() == "no MemAvailable line (Linux 3.14 or later is needed)");
  // Swap does not need MemAvailable (cgroup figures use it alone).
  CHECK(swap_used_percent(info.value()) == 0);
}

TEST_CASE("meminfo with a garbage number names the line", "[host]") {
  Result<MemInfo> info = parse_fixture("garbage");
  REQUIRE_FALSE(info.ok());
  CHECK_THAT(info.error(),
             Catch::StartsWith("malformed MemAvailable line 'MemAvailable:    6x00000"));
}

TEST_CASE("meminfo that is empty has no MemTotal", "[host]") {
  Result<MemInfo> info = parse_fixture("empty");
  REQUIRE_FALSE(info.ok());
  CHECK(info.error() == "no MemTotal line");
}

TEST_CASE("meminfo cut in its last line drops that figure", "[host]") {
  Result<MemInfo> info = parse_fixture("truncated");
  REQUIRE(info.ok());
  Result<MemoryFigures> f = host_memory(info.value());
  REQUIRE(f.ok());
  CHECK(f->used_percent == Approx(75));
  CHECK(f->available_bytes == 2048000000.0);
  CHECK(f->swap_used_percent == 0);  // SwapFree was cut: no swap figure
}

TEST_CASE("meminfo with MemAvailable above MemTotal stays within 0 and 100", "[host]") {
  Result<MemInfo> info = parse_meminfo("MemTotal: 100 kB\nMemAvailable: 200 kB\n");
  REQUIRE(info.ok());
  Result<MemoryFigures> f = host_memory(info.value());
  REQUIRE(f.ok());
  CHECK(f->used_percent == 0);
  CHECK(f->available_percent == 100);
  CHECK_FALSE(parse_meminfo("MemTotal: 0 kB\nMemAvailable: 0 kB\n").ok());
  CHECK_FALSE(parse_meminfo("MemTotal: 99999999999999999999 kB\n").ok());
  CHECK_FALSE(parse_meminfo("MemTotal: 100 MB\n").ok());
}

}  // namespace vigil
