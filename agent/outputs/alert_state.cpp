#include "agent/outputs/alert_state.h"

#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

namespace vigil {
namespace {

// The incident a record belongs to, and whether it is its resolve; false when the
// record is not an object.
bool incident_of(const std::string& record, std::string* id, bool* resolved) {
  nlohmann::json j = nlohmann::json::parse(record, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return false;
  }
  auto text = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  *id = text("incident_id");
  if (id->empty()) {
    *id = text("key");
  }
  *resolved = text("status") == "resolved";
  return true;
}

}  // namespace

std::vector<std::string> alertmanager_state(const std::vector<std::string>& batch,
                                            const std::vector<std::string>& open) {
  std::set<std::string> open_ids;
  std::vector<std::string> firing;
  for (const std::string& r : open) {
    std::string id;
    bool resolved = false;
    if (incident_of(r, &id, &resolved) && !resolved) {
      open_ids.insert(id);
      firing.push_back(r);
    }
  }
  std::vector<std::string> out;
  std::set<std::string> resolves;
  for (const std::string& r : batch) {
    std::string id;
    bool resolved = false;
    if (!incident_of(r, &id, &resolved) || !resolved || open_ids.count(id) != 0 ||
        !resolves.insert(id).second) {
      continue;  // open now (sent below), stale, or a second resolve of one incident
    }
    out.push_back(r);
  }
  out.insert(out.end(), std::make_move_iterator(firing.begin()),
             std::make_move_iterator(firing.end()));
  return out;
}

}  // namespace vigil
