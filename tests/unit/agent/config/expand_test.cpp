#include "agent/config/expand.h"

#include <catch2/catch.hpp>
#include <map>

namespace vigil {
namespace {

std::optional<std::string> fake_env(const std::string& name) {
  static const std::map<std::string, std::string> kEnv = {{"A", "alpha"}, {"EMPTY", ""}};
  auto it = kEnv.find(name);
  return it == kEnv.end() ? std::nullopt : std::optional<std::string>(it->second);
}

}  // namespace

TEST_CASE("variables, defaults and escapes expand", "[config]") {
  CHECK(expand_variables("${A}", fake_env).value() == "alpha");
  CHECK(expand_variables("x${A}y${A}", fake_env).value() == "xalphayalpha");
  CHECK(expand_variables("${B:-beta}", fake_env).value() == "beta");
  CHECK(expand_variables("${A:-beta}", fake_env).value() == "alpha");
  CHECK(expand_variables("${EMPTY:-d}", fake_env).value() == "d");
  CHECK(expand_variables("${EMPTY}", fake_env).value() == "");
  CHECK(expand_variables("${B:-}", fake_env).value() == "");
  CHECK(expand_variables("$$", fake_env).value() == "$");
  CHECK(expand_variables("$${X}", fake_env).value() == "${X}");
  CHECK(expand_variables("$$$${A}", fake_env).value() == "$${A}");
  CHECK(expand_variables("^error$", fake_env).value() == "^error$");
  CHECK(expand_variables("a $b", fake_env).value() == "a $b");
}

TEST_CASE("undefined variables and malformed references are errors", "[config]") {
  CHECK(expand_variables("${B}", fake_env).error() ==
        "undefined variable 'B' (set it, or give a default: ${B:-VALUE})");
  CHECK(expand_variables("${A", fake_env).error() ==
        "unterminated '${' (write '$$' for a literal '$')");
  CHECK(expand_variables("${1X}", fake_env).error() ==
        "invalid variable name in '${…}' (letters, digits and _, not starting with a digit; "
        "write '$$' for a literal '$')");
  // A value that only looks like a variable may be a secret: none of it is quoted.
  CHECK(expand_variables("pa${ss word:-s3cret}", fake_env).error().find("s3cret") ==
        std::string::npos);
  CHECK_FALSE(expand_variables("${}", fake_env).ok());
}

}  // namespace vigil
