#include "agent/util/strings.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("durations take every unit and reject negatives") {
  CHECK(parse_duration("250ms").value() == Duration(250));
  CHECK(parse_duration("1.5s").value() == Duration(1500));
  CHECK(parse_duration("5m").value() == Duration(300000));
  CHECK(parse_duration("2h").value() == Duration(7200000));
  CHECK(parse_duration("1d").value() == Duration(86400000));
  CHECK(parse_duration("0").value() == Duration(0));
  CHECK_FALSE(parse_duration("-1s").ok());
  CHECK_FALSE(parse_duration("10").ok());
  CHECK_FALSE(parse_duration("10 parsecs").ok());
  CHECK_FALSE(parse_duration("").ok());
}

TEST_CASE("sizes use binary units") {
  CHECK(parse_size("512").value() == 512);
  CHECK(parse_size("64KiB").value() == 65536);
  CHECK(parse_size("10MiB").value() == 10485760);
  CHECK(parse_size("1GiB").value() == 1073741824);
  CHECK_FALSE(parse_size("1GB").ok());
  CHECK_FALSE(parse_size("-5").ok());
}

TEST_CASE("booleans accept three spellings each") {
  for (const char* t : {"true", "yes", "on"}) {
    CHECK(parse_bool(t).value());
  }
  for (const char* f : {"false", "no", "off"}) {
    CHECK_FALSE(parse_bool(f).value());
  }
  CHECK_FALSE(parse_bool("maybe").ok());
}

TEST_CASE("invalid UTF-8 becomes U+FFFD and the cut keeps characters whole") {
  CHECK(sanitize_utf8("ok\xff", 100) == "ok\xEF\xBF\xBD");
  CHECK(sanitize_utf8("\xC3\xA9\xC3\xA9", 3) == "\xC3\xA9");
  CHECK(sanitize_utf8("abc", 2) == "ab");
}

TEST_CASE("names follow the check-name rule") {
  CHECK(is_valid_name("root"));
  CHECK(is_valid_name("_a.b-c9"));
  CHECK_FALSE(is_valid_name("-x"));
  CHECK_FALSE(is_valid_name("a b"));
  CHECK_FALSE(is_valid_name(""));
}

}  // namespace vigil
