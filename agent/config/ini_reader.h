#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/errors.h"
#include "agent/plugin/section.h"

namespace vigil {

// One `[...]` header line and the keys below it, as read from one file.
struct ParsedSection {
  Section section;
  // False when the header itself was malformed: its keys are dropped silently
  // so that one typo gives one error.
  bool valid = true;
  // Keys whose line had an error of its own (too long, undefined ${VAR}): they
  // count as given, so no "missing required key" follows, but carry no value.
  std::set<std::string> broken_keys;
};

// Parses INI text through inih (ini_parse_stream) with a reader that works
// around inih 55's traps: it counts lines, strips leading white space (so an
// indented key is never a continuation line), flags lines longer than
// kMaxLineBytes and records every section header with its line, including
// sections without keys and repeated names. Values are returned as written
// (inline ` ;` comments removed); ${VAR} expansion is the caller's. Errors are
// appended to `errors` as FILE:LINE.
std::vector<ParsedSection> parse_ini(const std::string& file, std::string_view text,
                                     ConfigErrors* errors);

// The longest line accepted, its line ending not counted (docs/CONFIGURATION.md). inih 55
// silently cuts lines over 199 bytes: the reader hands it at most this much.
inline constexpr size_t kMaxLineBytes = 198;

}  // namespace vigil
