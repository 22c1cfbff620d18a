#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

enum class CheckState { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };

std::string_view state_name(CheckState s);
std::optional<CheckState> parse_state(std::string_view s);

enum class Op { kGt, kGe, kLt, kLe, kEq, kNe };

// `METRIC OP VALUE [for DURATION] [clear VALUE]` (docs/CONFIGURATION.md, Rules).
struct Rule {
  std::string metric;
  Op op = Op::kGt;
  double value = 0;
  Duration for_duration{0};
  std::optional<double> clear;
  CheckState severity = CheckState::kWarning;
  std::string text;  // as written, normalised spacing: "used_percent > 90 for 5m"
};

// Parses the text of a rule; severity is set by the caller (warning/critical key).
Result<Rule> parse_rule(std::string_view text);

}  // namespace vigil
