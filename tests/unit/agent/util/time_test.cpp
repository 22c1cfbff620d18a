#include "agent/util/time.h"

#include <catch2/catch.hpp>
#include <string>

namespace vigil {

TEST_CASE("format_rfc3339 writes UTC with milliseconds", "[time]") {
  CHECK(format_rfc3339(from_millis(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(from_millis(1795526102123)) == "2026-11-24T13:15:02.123Z");
  CHECK(format_rfc3339(from_millis(951868799999)) == "2000-02-29T23:59:59.999Z");
}

TEST_CASE("format_rfc3339 handles times before the epoch", "[time]") {
  CHECK(format_rfc3339(from_millis(-1)) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(from_millis(-1500)) == "1969-12-31T23:59:58.500Z");
  CHECK(format_rfc3339(from_millis(-2208988800000)) == "1900-01-01T00:00:00.000Z");
}

TEST_CASE("format_rfc3339 writes the first and the last millisecond a time can hold", "[time]") {
  CHECK(format_rfc3339(SystemTime::min()) == "1677-09-21T00:12:43.146Z");
  CHECK(format_rfc3339(SystemTime::max()) == "2262-04-11T23:47:16.854Z");
}

TEST_CASE("format_compact_utc writes the dead-letter stamp", "[time]") {
  CHECK(format_compact_utc(from_millis(1795526102123)) == "20261124T131502.123Z");
  CHECK(format_compact_utc(from_millis(-1)) == "19691231T235959.999Z");
}

TEST_CASE("parse_rfc3339 reads back what format_rfc3339 writes", "[time]") {
  int64_t ms = GENERATE(int64_t{0}, int64_t{1795526102123}, int64_t{951868799999}, int64_t{-1},
                        int64_t{-1500}, int64_t{-2208988800000});
  SystemTime t{};
  REQUIRE(parse_rfc3339(format_rfc3339(from_millis(ms)), &t));
  CHECK(to_millis(t) == ms);
}

TEST_CASE("parse_rfc3339 accepts times without or with fewer fraction digits", "[time]") {
  SystemTime t{};
  REQUIRE(parse_rfc3339("2026-11-24T13:15:02Z", &t));
  CHECK(to_millis(t) == 1795526102000);
  // RFC 3339 fractions are decimal: .5 is half a second, not 5 ms.
  REQUIRE(parse_rfc3339("2026-11-24T13:15:02.5Z", &t));
  CHECK(to_millis(t) == 1795526102500);
  REQUIRE(parse_rfc3339("2026-11-24T13:15:02.12Z", &t));
  CHECK(to_millis(t) == 1795526102120);
}

TEST_CASE("parse_rfc3339 takes an offset from UTC", "[time]") {
  SystemTime t;
  REQUIRE(parse_rfc3339("2026-11-24T15:15:02+02:00", &t));
  CHECK(to_millis(t) == 1795526102000);
  REQUIRE(parse_rfc3339("2026-11-24T08:45:02.5-04:30", &t));
  CHECK(to_millis(t) == 1795526102500);
  REQUIRE(parse_rfc3339("2026-11-24T13:15:02z", &t));
  CHECK(to_millis(t) == 1795526102000);
}

TEST_CASE("parse_rfc3339 rejects malformed text", "[time]") {
  std::string text = GENERATE(
      as<std::string>{}, "", "garbage", "2026-11-24 13:15:02.123Z", "2026-11-24T13:15:02.123",
      "2026-11-24T13:15:02.123Z trailing", "2026-11-24T13:15:02.Z", "2026-13-24T13:15:02.123Z",
      "2026-11-32T13:15:02.123Z", "2026-11-24T25:15:02.123Z", "2026-11-24T13:61:02.123Z",
      "2026-11-24T13:15:02+2:00", "2026-11-24T13:15:02+02:60", "2026-11-24T13:15:02+0200",
      "2026-11-24T13:15:02+02:00x");
  SystemTime t = from_millis(42);
  CHECK_FALSE(parse_rfc3339(text, &t));
  CHECK(to_millis(t) == 42);  // untouched on failure
}

}  // namespace vigil
