#include "agent/rules/rule.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("a rule gives metric, operator and value", "[config]") {
  Result<Rule> r = parse_rule("used_percent > 90");
  REQUIRE(r.ok());
  CHECK(r->metric == "used_percent");
  CHECK(r->op == Op::kGt);
  CHECK(r->value == 90);
  CHECK(r->for_duration == Duration(0));
  CHECK_FALSE(r->clear.has_value());
  CHECK(r->text == "used_percent > 90");
}

TEST_CASE("every operator is recognised", "[config]") {
  auto [text, op] = GENERATE(table<const char*, Op>({{"x > 1", Op::kGt},
                                                     {"x >= 1", Op::kGe},
                                                     {"x < 1", Op::kLt},
                                                     {"x <= 1", Op::kLe},
                                                     {"x == 1", Op::kEq},
                                                     {"x != 1", Op::kNe}}));
  Result<Rule> r = parse_rule(text);
  REQUIRE(r.ok());
  CHECK(r->op == op);
  CHECK(r->text == text);
}

TEST_CASE("rule values take size and duration units", "[config]") {
  Result<Rule> bytes = parse_rule("free_bytes < 1GiB");
  REQUIRE(bytes.ok());
  CHECK(bytes->value == 1073741824.0);
  CHECK(bytes->text == "free_bytes < 1GiB");

  Result<Rule> seconds = parse_rule("x > 1.5s");
  REQUIRE(seconds.ok());
  CHECK(seconds->value == 1.5);

  Result<Rule> negative = parse_rule("x < -5");
  REQUIRE(negative.ok());
  CHECK(negative->value == -5);
}

TEST_CASE("for and clear are read and the text is normalised", "[config]") {
  Result<Rule> r = parse_rule("  used_percent   >  90   for 5m   clear 80 ");
  REQUIRE(r.ok());
  CHECK(r->for_duration == Duration(300000));
  REQUIRE(r->clear.has_value());
  CHECK(*r->clear == 80);
  CHECK(r->text == "used_percent > 90 for 5m clear 80");

  Result<Rule> f = parse_rule("x >= 1 for 3s");
  REQUIRE(f.ok());
  CHECK(f->for_duration == Duration(3000));
  CHECK_FALSE(f->clear.has_value());

  Result<Rule> c = parse_rule("free_bytes < 1GiB clear 2GiB");
  REQUIRE(c.ok());
  CHECK(*c->clear == 2147483648.0);
}

TEST_CASE("metric and operator may touch", "[config]") {
  Result<Rule> r = parse_rule("load1>=4");
  REQUIRE(r.ok());
  CHECK(r->metric == "load1");
  CHECK(r->op == Op::kGe);
  CHECK(r->value == 4);
  CHECK(r->text == "load1 >= 4");
}

TEST_CASE("malformed rules are rejected with a reason", "[config]") {
  CHECK(parse_rule("x => 5").error() ==
        "invalid rule 'x => 5': expected an operator (> >= < <= == !=) after 'x', got '=>'");
  CHECK(parse_rule("x >").error() == "invalid rule 'x >': missing value after '>'");
  CHECK(parse_rule("x == 1 clear 2").error() ==
        "invalid rule 'x == 1 clear 2': 'clear' is only valid with > >= < <=");
  CHECK(parse_rule("x > 90 clear 95").error() ==
        "invalid rule 'x > 90 clear 95': the clear value of a '>' rule must not be above its "
        "threshold");
  CHECK(parse_rule("x < 10 clear 5").error() ==
        "invalid rule 'x < 10 clear 5': the clear value of a '<' rule must not be below its "
        "threshold");
  CHECK(parse_rule("x > 1 for").error() ==
        "invalid rule 'x > 1 for': missing duration after 'for'");
  CHECK(parse_rule("x > 1 clear").error() ==
        "invalid rule 'x > 1 clear': missing value after 'clear'");
  CHECK_FALSE(parse_rule("x > 90%").ok());
  CHECK_FALSE(parse_rule("x > 1 for 5").ok());
  CHECK_FALSE(parse_rule("x > 1 clear 0 for 5m").ok());
  CHECK_FALSE(parse_rule("> 1").ok());
  CHECK_FALSE(parse_rule("").ok());
  CHECK_FALSE(parse_rule("x > 1 extra").ok());
}

}  // namespace vigil
