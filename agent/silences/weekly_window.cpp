#include "agent/silences/weekly_window.h"

#include <array>
#include <cctype>
#include <string>

#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr Duration kDay = std::chrono::hours(24);
constexpr Duration kWeek = 7 * kDay;
// 1970-01-01, where Unix time starts, was a Thursday.
constexpr int kEpochWeekday = 4;

constexpr std::array<std::string_view, 7> kDays = {"sunday",   "monday", "tuesday", "wednesday",
                                                   "thursday", "friday", "saturday"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

int weekday_of(std::string_view word) {
  std::string w = lower(word);
  for (size_t i = 0; i < kDays.size(); ++i) {
    if (w == kDays[i] || (w.size() == 3 && kDays[i].substr(0, 3) == w)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// HH:MM, 00:00 to 23:59.
std::optional<Duration> time_of_day(std::string_view s) {
  if (s.size() != 5 || s[2] != ':' || !isdigit(static_cast<unsigned char>(s[0])) ||
      !isdigit(static_cast<unsigned char>(s[1])) || !isdigit(static_cast<unsigned char>(s[3])) ||
      !isdigit(static_cast<unsigned char>(s[4]))) {
    return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) {
    return std::nullopt;
  }
  return std::chrono::hours(h) + std::chrono::minutes(m);
}

// Floor division: times before 1970 stay on the right day.
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<WeeklyWindow> parse_weekly(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
      }
    } else {
      word += c;
    }
  }
  if (!word.empty()) {
    words.push_back(std::move(word));
  }
  const std::string usage = " (use DAY HH:MM DURATION in UTC, such as Sun 02:00 2h)";
  if (words.size() != 3) {
    return make_error("weekly: expected three words" + usage);
  }
  WeeklyWindow w;
  w.weekday = weekday_of(words[0]);
  if (w.weekday < 0) {
    return make_error("weekly: unknown day '" + words[0] + "'" + usage);
  }
  std::optional<Duration> start = time_of_day(words[1]);
  if (!start) {
    return make_error("weekly: invalid time '" + words[1] +
                      "', expected HH:MM from 00:00 to 23:59");
  }
  w.start = *start;
  Result<Duration> length = parse_duration(words[2]);
  if (!length.ok()) {
    return make_error("weekly: " + length.error());
  }
  if (length.value() <= Duration(0) || length.value() > kWeek) {
    return make_error("weekly: the duration must be greater than 0 and at most 7d");
  }
  w.length = length.value();
  return w;
}

std::pair<SystemTime, SystemTime> weekly_occurrence(const WeeklyWindow& w, SystemTime now) {
  int64_t ms = to_millis(now);
  int64_t day = floor_div(ms, kDay.count());
  int64_t weekday = (day + kEpochWeekday) % 7;  // day >= -4 would do; keep it non-negative
  if (weekday < 0) {
    weekday += 7;
  }
  int64_t sunday = (day - weekday) * kDay.count();
  int64_t start = sunday + w.weekday * kDay.count() + w.start.count();
  if (start > ms) {
    start -= kWeek.count();  // the latest start at or before now
  }
  if (ms >= start + w.length.count()) {
    start += kWeek.count();  // that one is over: the next
  }
  return {from_millis(start), from_millis(start + w.length.count())};
}

}  // namespace vigil
