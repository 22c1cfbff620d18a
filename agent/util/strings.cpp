#include "agent/util/strings.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace vigil {

std::string_view trim(std::string_view s) {
  size_t b = 0;
  while (b < s.size() && isspace(static_cast<unsigned char>(s[b]))) {
    ++b;
  }
  size_t e = s.size();
  while (e > b && isspace(static_cast<unsigned char>(s[e - 1]))) {
    --e;
  }
  return s.substr(b, e - b);
}

std::vector<std::string> split_list(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    std::string_view item = trim(s.substr(start, end - start));
    if (!item.empty()) {
      out.emplace_back(item);
    }
    start = end + 1;
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

namespace {

// Splits "1.5s" into 1.5 and "s". Rejects signs, exponents, hex and empty numbers.
bool split_number(std::string_view s, double* value, std::string_view* unit) {
  size_t i = 0;
  bool digits = false;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) {
    ++i;
    digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      digits = true;
    }
  }
  if (!digits) {
    return false;
  }
  std::string num(s.substr(0, i));
  *value = strtod(num.c_str(), nullptr);
  *unit = s.substr(i);
  return std::isfinite(*value);
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && s[0] == '-') {
    return make_error("negative duration '" + std::string(s) + "'");
  }
  double v = 0;
  std::string_view unit;
  if (!split_number(s, &v, &unit)) {
    return make_error("invalid duration '" + std::string(s) + "' (use e.g. 250ms, 10s, 5m)");
  }
  double ms = 0;
  if (unit.empty()) {
    if (v != 0) {
      return make_error("duration '" + std::string(s) + "' needs a unit (ms, s, m, h, d)");
    }
  } else if (unit == "ms") {
    ms = v;
  } else if (unit == "s") {
    ms = v * 1e3;
  } else if (unit == "m") {
    ms = v * 60e3;
  } else if (unit == "h") {
    ms = v * 3600e3;
  } else if (unit == "d") {
    ms = v * 86400e3;
  } else {
    return make_error("invalid duration unit in '" + std::string(s) + "' (use ms, s, m, h, d)");
  }
  if (ms > 1e15) {
    return make_error("duration '" + std::string(s) + "' is too large");
  }
  return Duration(static_cast<int64_t>(std::llround(ms)));
}

Result<uint64_t> parse_size(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && s[0] == '-') {
    return make_error("negative size '" + std::string(s) + "'");
  }
  double v = 0;
  std::string_view unit;
  if (!split_number(s, &v, &unit)) {
    return make_error("invalid size '" + std::string(s) + "' (use e.g. 512, 64KiB, 10MiB)");
  }
  double mult = 1;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "KiB") {
    mult = 1024.0;
  } else if (unit == "MiB") {
    mult = 1024.0 * 1024;
  } else if (unit == "GiB") {
    mult = 1024.0 * 1024 * 1024;
  } else if (unit == "TiB") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return make_error("invalid size unit in '" + std::string(s) + "' (use KiB, MiB, GiB)");
  }
  double bytes = v * mult;
  if (bytes > 1.8e19) {
    return make_error("size '" + std::string(s) + "' is too large");
  }
  return static_cast<uint64_t>(std::llround(bytes));
}

Result<bool> parse_bool(std::string_view text) {
  std::string_view s = trim(text);
  if (s == "true" || s == "yes" || s == "on") {
    return true;
  }
  if (s == "false" || s == "no" || s == "off") {
    return false;
  }
  return make_error("invalid boolean '" + std::string(s) + "' (use true/false, yes/no, on/off)");
}

std::optional<double> parse_number(std::string_view text) {
  std::string s(trim(text));
  if (s.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  double v = strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) {
    return std::nullopt;
  }
  // strtod takes hex and inf/nan; configuration numbers are plain decimals.
  for (char c : s) {
    if (c == 'x' || c == 'X' || isalpha(static_cast<unsigned char>(c)) != 0) {
      if (c != 'e' && c != 'E') {
        return std::nullopt;
      }
    }
  }
  return v;
}

std::optional<double> parse_number_with_unit(std::string_view text) {
  std::string_view s = trim(text);
  if (auto plain = parse_number(s)) {
    return plain;
  }
  bool negative = !s.empty() && s[0] == '-';
  std::string_view body = negative ? s.substr(1) : s;
  double sign = negative ? -1.0 : 1.0;
  if (auto size = parse_size(body); size.ok()) {
    return sign * static_cast<double>(size.value());
  }
  if (auto d = parse_duration(body); d.ok()) {
    return sign * to_seconds(d.value());
  }
  return std::nullopt;
}

bool is_valid_name(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  auto word = [](char c) { return isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  if (!word(s[0])) {
    return false;
  }
  for (char c : s) {
    if (!word(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string sanitize_utf8(std::string_view s, size_t max_bytes) {
  static const char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      len = 4;
    }
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (valid && len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (valid && len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (!valid) {
      if (out.size() + 3 > max_bytes) {
        break;
      }
      out += kReplacement;
      i += 1;
      continue;
    }
    if (out.size() + len > max_bytes) {
      break;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace vigil
