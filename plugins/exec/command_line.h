#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/util/result.h"

namespace vigil {

// Splits an exec `command` into words as a POSIX shell would, without any
// expansion: blanks (space, tab) separate words; '…' keeps everything inside
// as it is; "…" groups too, and a backslash inside it escapes only `"` and `\`
// (before anything else it stays a backslash); outside quotes a backslash
// escapes the next character. Quotes join with adjacent text (a'b c'd is one
// word) and '' is an empty word. An unterminated quote, a trailing backslash
// or a command without words is an error (without file and line: the caller
// knows them).
Result<std::vector<std::string>> split_command(std::string_view text);

}  // namespace vigil
