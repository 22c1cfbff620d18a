#include "plugins/memory/cgroup_memory.h"

#include <string>

#include "agent/util/host_text.h"
#include "agent/util/strings.h"

namespace vigil {

Result<uint64_t> parse_cgroup_bytes(std::string_view text) {
  std::string_view v = trim(text);
  uint64_t out = 0;
  if (!host_text::parse_u64(v, &out)) {
    return make_error("malformed byte count '" + std::string(v.substr(0, 64)) + "'");
  }
  return out;
}

Result<uint64_t> parse_cgroup_memory_max(std::string_view text, bool* unlimited) {
  *unlimited = trim(text) == "max";
  if (*unlimited) {
    return uint64_t{0};
  }
  return parse_cgroup_bytes(text);
}

Result<uint64_t> parse_inactive_file(std::string_view text) {
  uint64_t out = 0;
  bool found = false;
  std::string bad;
  host_text::for_each_line(text, [&](std::string_view line) {
    std::string_view rest = line;
    if (host_text::next_field(&rest) != "inactive_file") {
      return true;
    }
    std::string_view value = host_text::next_field(&rest);
    if (!host_text::parse_u64(value, &out)) {
      bad = "malformed inactive_file value '" + std::string(value.substr(0, 32)) + "'";
    }
    found = true;
    return false;
  });
  if (!bad.empty()) {
    return make_error(bad);
  }
  if (!found) {
    return make_error("no inactive_file line");
  }
  return out;
}

MemoryFigures cgroup_memory(uint64_t current, uint64_t inactive_file, uint64_t limit) {
  uint64_t working_set = current > inactive_file ? current - inactive_file : 0;
  uint64_t available = limit > working_set ? limit - working_set : 0;
  MemoryFigures out;
  out.available_bytes = static_cast<double>(available);
  if (limit == 0) {
    // A limit of 0 leaves nothing: all of it is used.
    out.used_percent = 100;
    return out;
  }
  double lim = static_cast<double>(limit);
  double used = 100.0 * static_cast<double>(working_set) / lim;
  out.used_percent = used > 100 ? 100 : used;
  out.available_percent = 100.0 * static_cast<double>(available) / lim;
  return out;
}

}  // namespace vigil
