#include "plugins/journal/journal_filter.h"

#include <array>

namespace vigil {
namespace {

constexpr size_t kMaxFieldName = 64;

constexpr std::array<std::string_view, 8> kPriorityNames = {"emerg",   "alert",  "crit", "err",
                                                            "warning", "notice", "info", "debug"};

bool field_char(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

}  // namespace

std::string_view match_field(std::string_view text) {
  size_t eq = text.find('=');
  return eq == std::string_view::npos ? std::string_view() : text.substr(0, eq);
}

Status check_field_match(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return make_error("match: '" + std::string(text) +
                      "' is not FIELD=VALUE (a journal field such as _SYSTEMD_UNIT=nginx.service)");
  }
  std::string_view field = text.substr(0, eq);
  if (field.empty()) {
    return make_error("match: '" + std::string(text) + "' has no field name before '='");
  }
  if (field.size() > kMaxFieldName) {
    return make_error("match: field name longer than 64 bytes");
  }
  for (size_t i = 0; i < field.size(); ++i) {
    if (!field_char(field[i], i == 0)) {
      return make_error("match: '" + std::string(field) +
                        "' is not a journal field name (upper-case letters, digits and '_', "
                        "not starting with a digit)");
    }
  }
  if (field.substr(0, 2) == "__") {
    return make_error("match: '" + std::string(field) +
                      "' is an address of an entry, not one of its fields");
  }
  return {};
}

std::optional<int> parse_priority(std::string_view text) {
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') {
    return text[0] - '0';
  }
  for (size_t i = 0; i < kPriorityNames.size(); ++i) {
    if (text == kPriorityNames[i]) {
      return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

std::string_view priority_name(int priority) {
  if (priority < 0 || priority >= static_cast<int>(kPriorityNames.size())) {
    return "";
  }
  return kPriorityNames[static_cast<size_t>(priority)];
}

std::vector<std::string> journal_matches(const std::vector<std::string>& matches,
                                         std::optional<int> priority) {
  std::vector<std::string> out = matches;
  if (priority.has_value()) {
    for (int p = 0; p <= *priority; ++p) {
      out.push_back("PRIORITY=" + std::to_string(p));
    }
  }
  return out;
}

}  // namespace vigil
