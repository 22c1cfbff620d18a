#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

std::string_view trim(std::string_view s);
std::vector<std::string> split_list(std::string_view s, char sep = ',');  // trimmed, no empties
bool starts_with(std::string_view s, std::string_view prefix);

// `250ms 1.5s 10s 5m 2h 1d`; `0` needs no unit; negative values are errors.
Result<Duration> parse_duration(std::string_view s);
// `512`, `64KiB`, `10MiB`, `1GiB` (also TiB).
Result<uint64_t> parse_size(std::string_view s);
// true/false/yes/no/on/off.
Result<bool> parse_bool(std::string_view s);
// A plain decimal number (no unit); fails on trailing garbage.
std::optional<double> parse_number(std::string_view s);
// A number with an optional size or duration unit: sizes become bytes, durations seconds.
std::optional<double> parse_number_with_unit(std::string_view s);

// Name rule of checks and outputs: [A-Za-z0-9_][A-Za-z0-9_.-]*.
bool is_valid_name(std::string_view s);

// Cuts to at most max_bytes of valid UTF-8; invalid bytes become U+FFFD.
std::string sanitize_utf8(std::string_view s, size_t max_bytes);

}  // namespace vigil
