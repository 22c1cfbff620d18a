#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/util/result.h"

namespace vigil {

using VariableLookup = std::function<std::optional<std::string>(const std::string&)>;

// Expands `${VAR}` and `${VAR:-default}` (the default also when VAR is empty,
// as in a shell); `$$` is a literal `$`, so `$${X}` is the text `${X}`. Any
// other `$` stays as written, since regexes end in `$`. An undefined variable
// without a default is an error.
Result<std::string> expand_variables(std::string_view value, const VariableLookup& lookup);

}  // namespace vigil
