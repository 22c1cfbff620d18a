#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace vigil::cli {

// `vigil silence list` without --json: one line per silence (ID STATE STARTS
// ENDS CREATED_BY MATCHERS COMMENT), from GET /silences objects.
std::string render_silence_table(const nlohmann::json& silences);

}  // namespace vigil::cli
