#include "agent/silences/weekly_window.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

SystemTime at(const char* rfc3339) {
  SystemTime t;
  REQUIRE(parse_rfc3339(rfc3339, &t));
  return t;
}

WeeklyWindow weekly(const char* text) {
  Result<WeeklyWindow> w = parse_weekly(text);
  INFO(text << ": " << (w.ok() ? "" : w.error()));
  REQUIRE(w.ok());
  return w.value();
}

// 2026-11-22 is a Sunday.
TEST_CASE("a weekly window opens on its day and time in UTC", "[silences]") {
  WeeklyWindow w = weekly("Sun 02:00 2h");
  CHECK(w.weekday == 0);
  auto [start, end] = weekly_occurrence(w, at("2026-11-22T02:30:00Z"));
  CHECK(format_rfc3339(start) == "2026-11-22T02:00:00.000Z");
  CHECK(format_rfc3339(end) == "2026-11-22T04:00:00.000Z");
}

TEST_CASE("before the window, the occurrence is the next one; after it, next week's",
          "[silences]") {
  WeeklyWindow w = weekly("sunday 02:00 2h");
  auto before = weekly_occurrence(w, at("2026-11-22T01:59:59.999Z"));
  CHECK(format_rfc3339(before.first) == "2026-11-22T02:00:00.000Z");
  auto at_start = weekly_occurrence(w, at("2026-11-22T02:00:00Z"));
  CHECK(format_rfc3339(at_start.first) == "2026-11-22T02:00:00.000Z");
  // The end is exclusive: at 04:00 the next occurrence is a week later.
  auto at_end = weekly_occurrence(w, at("2026-11-22T04:00:00Z"));
  CHECK(format_rfc3339(at_end.first) == "2026-11-29T02:00:00.000Z");
  auto wednesday = weekly_occurrence(w, at("2026-11-25T12:00:00Z"));
  CHECK(format_rfc3339(wednesday.first) == "2026-11-29T02:00:00.000Z");
  CHECK(format_rfc3339(wednesday.second) == "2026-11-29T04:00:00.000Z");
}

TEST_CASE("a window that runs past the end of the week contains the early hours of Sunday",
          "[silences]") {
  WeeklyWindow w = weekly("Sat 23:00 3h");
  CHECK(w.weekday == 6);
  // Sunday 01:00 belongs to the window that opened the evening before, in the
  // week before.
  auto sunday = weekly_occurrence(w, at("2026-11-22T01:00:00Z"));
  CHECK(format_rfc3339(sunday.first) == "2026-11-21T23:00:00.000Z");
  CHECK(format_rfc3339(sunday.second) == "2026-11-22T02:00:00.000Z");
  auto after = weekly_occurrence(w, at("2026-11-22T02:00:00Z"));
  CHECK(format_rfc3339(after.first) == "2026-11-28T23:00:00.000Z");
  auto saturday_noon = weekly_occurrence(w, at("2026-11-28T12:00:00Z"));
  CHECK(format_rfc3339(saturday_noon.first) == "2026-11-28T23:00:00.000Z");
}

TEST_CASE("a week-long window is always open", "[silences]") {
  WeeklyWindow w = weekly("Mon 00:00 7d");
  for (const char* t : {"2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z", "2026-11-28T23:59:59Z"}) {
    auto [start, end] = weekly_occurrence(w, at(t));
    CHECK(start <= at(t));
    CHECK(at(t) < end);
  }
}

TEST_CASE("weekly windows work every day of the week and before 1970", "[silences]") {
  const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  for (int d = 0; d < 7; ++d) {
    WeeklyWindow w = weekly((std::string(days[d]) + " 12:00 1h").c_str());
    auto [start, end] = weekly_occurrence(w, at("2026-11-22T00:00:00Z"));
    CHECK(start == at("2026-11-22T12:00:00Z") + std::chrono::hours(24 * d));
  }
  // 1969-12-28 was a Sunday.
  auto [start, end] = weekly_occurrence(weekly("Sun 00:30 1h"), at("1969-12-29T00:00:00Z"));
  CHECK(format_rfc3339(start) == "1970-01-04T00:30:00.000Z");
}

TEST_CASE("a malformed weekly value is refused with what is wrong", "[silences]") {
  auto error = [](const char* text) {
    Result<WeeklyWindow> w = parse_weekly(text);
    REQUIRE_FALSE(w.ok());
    return w.error();
  };
  CHECK_THAT(error("Sun 02:00"), Catch::Contains("three words"));
  CHECK_THAT(error("Sonday 02:00 2h"), Catch::Contains("unknown day"));
  CHECK_THAT(error("Sun 24:00 2h"), Catch::Contains("HH:MM"));
  CHECK_THAT(error("Sun 2:00 2h"), Catch::Contains("HH:MM"));
  CHECK_THAT(error("Sun 02:60 2h"), Catch::Contains("HH:MM"));
  CHECK_THAT(error("Sun 02:00 0"), Catch::Contains("greater than 0"));
  CHECK_THAT(error("Sun 02:00 8d"), Catch::Contains("at most 7d"));
  CHECK_THAT(error("Sun 02:00 2x"), Catch::StartsWith("weekly: "));
}

}  // namespace
}  // namespace vigil
