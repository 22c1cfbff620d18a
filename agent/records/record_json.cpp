#include "agent/records/record_json.h"

#include <cmath>

namespace vigil {

std::string_view record_kind_name(RecordKind k) {
  switch (k) {
    case RecordKind::kEvent:
      return "event";
    case RecordKind::kIncident:
      return "incident";
    case RecordKind::kProblem:
      return "problem";
    case RecordKind::kHeartbeat:
      return "heartbeat";
  }
  return "event";
}

nlohmann::ordered_json record_header(RecordKind kind, const std::string& id, SystemTime time,
                                     const std::string& host, const Tags& tags) {
  nlohmann::ordered_json j;
  j["kind"] = record_kind_name(kind);
  j["id"] = id;
  j["time"] = format_rfc3339(time);
  j["host"] = host;
  nlohmann::ordered_json t = nlohmann::ordered_json::object();
  for (const auto& [k, v] : tags) {
    t[k] = v;
  }
  j["tags"] = std::move(t);
  return j;
}

std::string dump_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

nlohmann::ordered_json json_number(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) {
    return nullptr;
  }
  return *v;
}

}  // namespace vigil
