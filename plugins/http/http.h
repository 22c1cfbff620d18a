#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/plugin/collector.h"

namespace vigil {

extern const Plugin kHttpPlugin;

// The status codes an `expect_status` accepts: inclusive ranges.
using StatusRanges = std::vector<std::pair<int, int>>;

// "200-399, 418": codes and ranges of codes from 100 to 599.
Result<StatusRanges> parse_expect_status(std::string_view text);
bool status_expected(const StatusRanges& ranges, long status);

// Checks an http:// or https:// URL with a host; the message never shows the
// URL (it may hold credentials).
Status check_probe_url(std::string_view url);

}  // namespace vigil
