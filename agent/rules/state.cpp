#include "agent/rules/rule.h"

namespace vigil {

std::string_view state_name(CheckState s) {
  switch (s) {
    case CheckState::kOk:
      return "ok";
    case CheckState::kWarning:
      return "warning";
    case CheckState::kCritical:
      return "critical";
    case CheckState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<CheckState> parse_state(std::string_view s) {
  for (CheckState st :
       {CheckState::kOk, CheckState::kWarning, CheckState::kCritical, CheckState::kUnknown}) {
    if (state_name(st) == s) {
      return st;
    }
  }
  return std::nullopt;
}

}  // namespace vigil
