#include "agent/silences/matcher.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

SilenceSubject disk() {
  return SilenceSubject{"disk_root", "disk", "critical", {{"env", "prod"}, {"team", "ops"}}};
}

Matcher parsed(const std::string& text) {
  Result<Matcher> m = parse_matcher(text);
  INFO(text << ": " << (m.ok() ? "" : m.error()));
  REQUIRE(m.ok());
  return std::move(m).value();
}

TEST_CASE("matchers of the four kinds match as Alertmanager's do", "[silences]") {
  SilenceSubject s = disk();
  CHECK(parsed("check=disk_root").matches(s));
  CHECK_FALSE(parsed("check=disk").matches(s));
  CHECK(parsed("check!=disk").matches(s));
  CHECK_FALSE(parsed("check!=disk_root").matches(s));
  CHECK(parsed("check=~disk_.*").matches(s));
  CHECK_FALSE(parsed("check!~disk_.*").matches(s));
  CHECK(parsed("check!~mem.*").matches(s));
  CHECK(parsed("plugin=disk").matches(s));
  CHECK(parsed("severity=critical").matches(s));
  CHECK_FALSE(parsed("severity=warning").matches(s));
  CHECK(parsed("tag.env=prod").matches(s));
  CHECK_FALSE(parsed("tag.env=dev").matches(s));
}

TEST_CASE("a regex matcher must match the whole value", "[silences]") {
  SilenceSubject s = disk();
  CHECK_FALSE(parsed("check=~disk").matches(s));      // a prefix is not enough
  CHECK_FALSE(parsed("check=~root").matches(s));      // nor a suffix
  CHECK(parsed("check=~disk|disk_root").matches(s));  // alternation inside the anchors
  CHECK_FALSE(parsed("check=~x|disk").matches(s));
  s.check = "disk_root\n";
  CHECK_FALSE(parsed("check=~disk_root").matches(s));  // $ would let a newline through
}

TEST_CASE("a tag the incident lacks is an empty value", "[silences]") {
  SilenceSubject s = disk();
  CHECK(parsed("tag.region=").matches(s));
  CHECK(parsed("tag.region!=eu").matches(s));
  CHECK_FALSE(parsed("tag.region=eu").matches(s));
}

TEST_CASE("a matcher is read back as written, white space around its parts dropped", "[silences]") {
  CHECK(parsed(" check = disk_root ").text() == "check=disk_root");
  CHECK(parsed("check=~disk_.*").text() == "check=~disk_.*");
  CHECK(parsed("check!~x").text() == "check!~x");
  CHECK(parsed("tag.env!=prod").text() == "tag.env!=prod");
  Matcher eq = parsed("check==x");  // the value may hold '='
  CHECK(eq.value == "=x");
  CHECK(eq.is_equal);
  CHECK_FALSE(eq.is_regex);
}

TEST_CASE("a malformed matcher is refused with what is wrong", "[silences]") {
  auto error = [](const std::string& text) {
    Result<Matcher> m = parse_matcher(text);
    REQUIRE_FALSE(m.ok());
    return m.error();
  };
  CHECK_THAT(error("disk_root"), Catch::Contains("expected NAME=VALUE"));
  CHECK_THAT(error("=x"), Catch::Contains("expected NAME=VALUE"));
  CHECK_THAT(error("check!x"), Catch::Contains("!= or !~"));
  CHECK_THAT(error("host=web1"), Catch::Contains("check, plugin, severity or tag.KEY"));
  CHECK_THAT(error("tag.=x"), Catch::Contains("tag.KEY"));
  CHECK_THAT(error("severity=crit"), Catch::Contains("warning, critical or unknown"));
  CHECK_THAT(error("check=~disk_(.*"),
             Catch::Contains("invalid regex") && Catch::Contains("missing closing parenthesis"));
  CHECK_THAT(error("check=" + std::string(2000, 'x')), Catch::Contains("longer than 1024"));
}

TEST_CASE("the API's matcher fields make the same matcher", "[silences]") {
  Result<Matcher> m = make_matcher("check", "disk_.*", true, true);
  REQUIRE(m.ok());
  CHECK(m->matches(disk()));
  CHECK(m->text() == "check=~disk_.*");
  CHECK_FALSE(make_matcher("nope", "x", false, true).ok());
}

}  // namespace
}  // namespace vigil
