#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/config/errors.h"
#include "agent/config/ini_reader.h"
#include "agent/plugin/section.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// "[disk root]" or "[cpu]", as messages name a section.
std::string section_label(const Section& section);

// Checks one value against its key's type (durations, sizes, rules, choices …).
// `interval` and `timeout` must also be greater than 0 (docs/CONFIGURATION.md).
Status check_value(const KeySpec& spec, std::string_view value);

// Checks a section's keys against tables (the first table that names a key
// wins): unknown keys, repeats of keys that may not repeat (at the later line),
// missing required keys (at the header) and every value's type. Returns false
// when it reported an error.
bool check_section_keys(const ParsedSection& parsed,
                        std::initializer_list<std::span<const KeySpec>> tables,
                        ConfigErrors* errors);

// The last value of a key, parsed; nullopt when the key is absent or its value
// is invalid (check_section_keys has reported that already).
std::optional<Duration> duration_value(const Section& s, std::string_view key);
std::optional<uint64_t> size_value(const Section& s, std::string_view key);
std::optional<bool> bool_value(const Section& s, std::string_view key);
std::optional<int> int_value(const Section& s, std::string_view key);
std::optional<std::string> string_value(const Section& s, std::string_view key);

// A non-negative decimal integer that fits an int.
std::optional<int> parse_int(std::string_view s);

}  // namespace vigil
