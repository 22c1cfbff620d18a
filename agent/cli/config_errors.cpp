#include "agent/cli/config_errors.h"

#include <cstdio>
#include <cstdlib>

#include "agent/config/loader.h"

namespace vigil::cli {

std::optional<Config> load_or_report(const std::string& config_path, const LoadOptions& options) {
  LoadResult r = load_config(config_path, options);
  if (!r.errors.empty()) {
    // Under systemd every stderr line carries its priority, errors too.
    const char* priority = getenv("JOURNAL_STREAM") != nullptr ? "<3>" : "";
    for (const ConfigError& e : r.errors) {
      fprintf(stderr, "%s%s\n", priority, e.to_string().c_str());
    }
    return std::nullopt;
  }
  return std::move(r.config);
}

}  // namespace vigil::cli
