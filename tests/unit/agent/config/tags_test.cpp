#include "agent/config/tags.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("tags are key=value pairs and later keys win", "[config]") {
  Result<Tags> t = parse_tags(" env = prod ,team=ops,, env=stage, note=");
  REQUIRE(t.ok());
  CHECK(t.value() == Tags{{"env", "stage"}, {"team", "ops"}, {"note", ""}});
  CHECK(parse_tags("").value().empty());
  CHECK_FALSE(parse_tags("novalue").ok());
  CHECK_FALSE(parse_tags("=x").ok());
}

TEST_CASE("check tags override agent tags in place", "[config]") {
  Tags merged = merge_tags({{"env", "prod"}, {"dc", "a"}}, {{"dc", "b"}, {"role", "db"}});
  CHECK(merged == Tags{{"env", "prod"}, {"dc", "b"}, {"role", "db"}});
}

}  // namespace vigil
