#include "agent/config/expand.h"

#include <cctype>

namespace vigil {
namespace {

bool is_variable_name(std::string_view s) {
  if (s.empty() || isdigit(static_cast<unsigned char>(s[0])) != 0) {
    return false;
  }
  for (char c : s) {
    if (isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::string> expand_variables(std::string_view value, const VariableLookup& lookup) {
  std::string out;
  out.reserve(value.size());
  size_t i = 0;
  while (i < value.size()) {
    char c = value[i];
    if (c != '$' || i + 1 >= value.size()) {
      out += c;
      ++i;
      continue;
    }
    if (value[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (value[i + 1] != '{') {
      out += c;
      ++i;
      continue;
    }
    size_t close = value.find('}', i + 2);
    if (close == std::string_view::npos) {
      return make_error("unterminated '${' (write '$$' for a literal '$')");
    }
    std::string_view body = value.substr(i + 2, close - i - 2);
    std::optional<std::string_view> fallback;
    size_t sep = body.find(":-");
    std::string_view name = body;
    if (sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    if (!is_variable_name(name)) {
      // Nothing of the value is quoted: it may be a secret (a password with a
      // '$' in it) rather than a variable, and the default may be one too.
      return make_error(
          "invalid variable name in '${…}' (letters, digits and _, not starting with a digit; "
          "write '$$' for a literal '$')");
    }
    std::optional<std::string> found = lookup(std::string(name));
    if (fallback && (!found || found->empty())) {
      out += *fallback;
    } else if (found) {
      out += *found;
    } else {
      return make_error("undefined variable '" + std::string(name) +
                        "' (set it, or give a default: ${" + std::string(name) + ":-VALUE})");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace vigil
