#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace vigil::test {

// The folder of tests/support/make_certs.sh's certificates, made once for the
// whole run (openssl takes a moment): ca.crt, server.crt for localhost, other-ca.crt …
inline const std::string& test_certs() {
  static TempDir dir;
  static Status made = make_test_certs(dir.path());
  INFO((made.ok() ? std::string() : made.error()));
  REQUIRE(made.ok());
  return dir.path();
}

}  // namespace vigil::test
