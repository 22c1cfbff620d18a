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
  CHECK(expand_variables("${1X}", fake_env).error() == "invalid variable name '1X' in '${1X}'");
  CHECK_FALSE(expand_variables("${}", fake_env).ok());
}

}  // namespace vigil
