#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace vigil::cli {

// `vigil status` without --json: one line per check (NAME PLUGIN STATE SINCE
// VALUES), then open incidents, open problems and outputs.
std::string render_status_table(const nlohmann::json& status);

}  // namespace vigil::cli
