#include "agent/util/time.h"

#include <time.h>

#include <cctype>
#include <cstdio>
#include <cstring>

namespace vigil {
namespace {

void split(SystemTime t, struct tm* tm, int* millis) {
  int64_t ms = to_millis(t);
  int64_t secs = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    secs -= 1;
  }
  time_t tt = static_cast<time_t>(secs);
  gmtime_r(&tt, tm);
  *millis = static_cast<int>(rem);
}

// Writes `value` as `width` decimal digits, zero-padded, at `out`.
char* put_digits(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) {
    out[i] = static_cast<char>('0' + value % 10);
  }
  return out + width;
}

}  // namespace

const Clock& real_clock() {
  static const RealClock kClock;
  return kClock;
}

// Every record's time goes through here: by hand, not snprintf, whose code (and
// stdio's around it) the agent would otherwise map back for each heartbeat once its
// start-up pages were given back (250 KiB of libc).
std::string format_rfc3339(SystemTime t) {
  struct tm tm {};
  int millis = 0;
  split(t, &tm, &millis);
  // A SystemTime (64-bit nanoseconds) lies between 1677 and 2262: four digits.
  std::string out(24, 'Z');  // 2026-11-24T13:15:02.123Z
  char* p = put_digits(out.data(), tm.tm_year + 1900, 4);
  *p++ = '-';
  p = put_digits(p, tm.tm_mon + 1, 2);
  *p++ = '-';
  p = put_digits(p, tm.tm_mday, 2);
  *p++ = 'T';
  p = put_digits(p, tm.tm_hour, 2);
  *p++ = ':';
  p = put_digits(p, tm.tm_min, 2);
  *p++ = ':';
  p = put_digits(p, tm.tm_sec, 2);
  *p++ = '.';
  put_digits(p, millis, 3);
  return out;
}

std::string format_compact_utc(SystemTime t) {
  struct tm tm {};
  int millis = 0;
  split(t, &tm, &millis);
  char buf[96];
  snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

bool parse_rfc3339(const std::string& text, SystemTime* out) {
  struct tm tm {};
  int millis = 0;
  int n = 0;
  if (sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6) {
    return false;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return false;  // timegm() would quietly normalise them
  }
  const char* rest = text.c_str() + n;
  if (*rest == '.') {
    // A decimal fraction: `.5` is 500 ms; digits past the millisecond are cut.
    ++rest;
    int digits = 0;
    for (; *rest >= '0' && *rest <= '9'; ++rest, ++digits) {
      if (digits < 3) {
        millis = millis * 10 + (*rest - '0');
      }
    }
    if (digits == 0) {
      return false;
    }
    for (; digits < 3; ++digits) {
      millis *= 10;
    }
  }
  // `Z`, or an offset from UTC: `+02:00` is two hours ahead, so 2 h are taken off.
  int64_t offset_minutes = 0;
  if ((*rest == 'Z' || *rest == 'z') && rest[1] == '\0') {
    offset_minutes = 0;
  } else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':' &&
             isdigit(static_cast<unsigned char>(rest[1])) &&
             isdigit(static_cast<unsigned char>(rest[2])) &&
             isdigit(static_cast<unsigned char>(rest[4])) &&
             isdigit(static_cast<unsigned char>(rest[5]))) {
    int hours = (rest[1] - '0') * 10 + (rest[2] - '0');
    int minutes = (rest[4] - '0') * 10 + (rest[5] - '0');
    if (hours > 23 || minutes > 59) {
      return false;
    }
    offset_minutes = (*rest == '+' ? 1 : -1) * (hours * 60 + minutes);
  } else {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t secs = timegm(&tm);
  *out = from_millis((static_cast<int64_t>(secs) - offset_minutes * 60) * 1000 + millis);
  return true;
}

}  // namespace vigil
