#include "agent/config/tags.h"

#include <string>

#include "agent/util/strings.h"

namespace vigil {
namespace {

void set_tag(Tags* tags, const std::string& key, const std::string& value) {
  for (auto& [k, v] : *tags) {
    if (k == key) {
      v = value;
      return;
    }
  }
  tags->emplace_back(key, value);
}

}  // namespace

Result<Tags> parse_tags(std::string_view text) {
  Tags tags;
  for (const std::string& item : split_list(text)) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return make_error("invalid tag '" + item + "' (use key=value,key=value)");
    }
    std::string key(trim(std::string_view(item).substr(0, eq)));
    std::string value(trim(std::string_view(item).substr(eq + 1)));
    if (key.empty()) {
      return make_error("tag '" + item + "' has no key (use key=value,key=value)");
    }
    set_tag(&tags, key, value);
  }
  return tags;
}

Tags merge_tags(const Tags& base, const Tags& over) {
  Tags out = base;
  for (const auto& [k, v] : over) {
    set_tag(&out, k, v);
  }
  return out;
}

}  // namespace vigil
