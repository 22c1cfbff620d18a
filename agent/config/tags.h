#pragma once

#include <string_view>

#include "agent/config/config.h"
#include "agent/util/result.h"

namespace vigil {

// `key=value,key=value` (spaces around items allowed; a later key replaces an
// earlier one). Keys may not be empty; values may.
Result<Tags> parse_tags(std::string_view text);

// `base` with `over` applied: a key of `over` replaces the value in place,
// new keys follow in their order.
Tags merge_tags(const Tags& base, const Tags& over);

}  // namespace vigil
