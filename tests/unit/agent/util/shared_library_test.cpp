#include "agent/util/shared_library.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

namespace vigil {
namespace {

TEST_CASE("a shared library opened at run time gives its functions", "[util][journal]") {
  auto libc = SharedLibrary::open("libc.so.6");
  REQUIRE(libc.ok());
  decltype(&::getpid) my_pid = nullptr;
  REQUIRE(libc->bind("getpid", &my_pid).ok());
  CHECK(my_pid() == getpid());
}

TEST_CASE("a missing library or function is an error that names it", "[util][journal]") {
  auto missing = SharedLibrary::open("libvigil-no-such-library.so.0");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("cannot load libvigil-no-such-library.so.0: ") == 0);

  auto libc = SharedLibrary::open("libc.so.6");
  REQUIRE(libc.ok());
  decltype(&::getpid) f = nullptr;
  Status st = libc->bind("vigil_no_such_function", &f);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error() == "libc.so.6 lacks vigil_no_such_function");
  CHECK(f == nullptr);
}

}  // namespace
}  // namespace vigil
