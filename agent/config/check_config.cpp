#include "agent/config/check_config.h"

namespace vigil {

int run_check_config(const std::string& path, std::FILE* out, LoadOptions options) {
  options.deep = true;
  LoadResult r = load_config(path, options);
  if (r.errors.empty()) {
    fputs("ok\n", out);
    return 0;
  }
  for (const ConfigError& e : r.errors) {
    fprintf(out, "%s\n", e.to_string().c_str());
  }
  return 1;
}

}  // namespace vigil
