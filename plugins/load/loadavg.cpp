#include "plugins/load/loadavg.h"

#include <string>

#include "agent/util/host_text.h"

namespace vigil {

Result<LoadAverage> parse_loadavg(std::string_view text) {
  LoadAverage out;
  std::string_view rest = text.substr(0, text.find('\n'));
  for (double* dst : {&out.load1, &out.load5, &out.load15}) {
    std::string_view field = host_text::next_field(&rest);
    if (field.empty()) {
      return make_error("fewer than three load figures");
    }
    if (!host_text::parse_double(field, dst)) {
      return make_error("malformed load figure '" + std::string(field.substr(0, 32)) + "'");
    }
  }
  return out;
}

}  // namespace vigil
