#include "agent/cli/silence_table.h"

#include <nlohmann/json.hpp>

#include "agent/cli/text_table.h"

namespace vigil::cli {
namespace {

// The matchers as typed: check=~disk_.* tag.env=prod
std::string matchers_text(const nlohmann::json& s) {
  std::string out;
  auto list = s.find("matchers");
  if (list == s.end() || !list->is_array()) {
    return "-";
  }
  for (const nlohmann::json& m : *list) {
    if (!m.is_object()) {
      continue;
    }
    bool regex = m.value("isRegex", false);
    bool equal = m.value("isEqual", true);
    std::string op = regex ? (equal ? "=~" : "!~") : (equal ? "=" : "!=");
    out += (out.empty() ? "" : " ") + cell_text(m, "name") + op + m.value("value", "");
  }
  return out;
}

std::string state(const nlohmann::json& s) {
  auto st = s.find("status");
  return st != s.end() && st->is_object() ? cell_text(*st, "state") : "-";
}

}  // namespace

std::string render_silence_table(const nlohmann::json& silences) {
  std::vector<Row> rows{{"ID", "STATE", "STARTS", "ENDS", "CREATED_BY", "MATCHERS", "COMMENT"}};
  for (const nlohmann::json& s : silences) {
    if (!s.is_object()) {
      continue;
    }
    rows.push_back({cell_text(s, "id"), state(s), cell_text(s, "startsAt"), cell_text(s, "endsAt"),
                    cell_text(s, "createdBy"), matchers_text(s), cell_text(s, "comment")});
  }
  std::string out;
  render_table(&out, rows);
  return out;
}

}  // namespace vigil::cli
