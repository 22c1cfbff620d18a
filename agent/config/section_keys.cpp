#include "agent/config/section_keys.h"

namespace vigil {

bool fill_section(const ParsedSection& parsed, std::span<const KeyTarget> targets,
                  ConfigErrors* errors) {
  FillOptions options;
  options.given = &parsed.broken_keys;
  std::vector<Error> found = fill_keys(parsed.section, targets, options);
  for (Error& e : found) {
    add_error(errors, e.file, e.line, std::move(e.message));
  }
  return found.empty();
}

bool fill_section(const ParsedSection& parsed, std::initializer_list<KeyTarget> targets,
                  ConfigErrors* errors) {
  return fill_section(parsed, std::span<const KeyTarget>(targets.begin(), targets.size()), errors);
}

}  // namespace vigil
