#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace vigil::cli {

using Row = std::vector<std::string>;

// Appends the rows to `out`, each column as wide as its widest cell, two spaces apart.
void render_table(std::string* out, const std::vector<Row>& rows);

// A field of a JSON object as a cell: a string as it is, `-` for null or
// missing, anything else as JSON.
std::string cell_text(const nlohmann::json& object, const char* key);

}  // namespace vigil::cli
