#include "agent/state/state_file.h"

#include <errno.h>
#include <sys/stat.h>

#include "agent/records/record_json.h"
#include "agent/util/fs.h"

namespace vigil {

using nlohmann::json;

namespace {
Result<std::optional<AgentState>> parse_state_document(const json& j, const std::string& path);
}  // namespace

std::string encode_state(const AgentState& state) {
  nlohmann::ordered_json j;
  j["version"] = 1;
  j["saved_at"] = to_millis(state.saved_at);
  nlohmann::ordered_json checks = nlohmann::ordered_json::object();
  for (const auto& [name, c] : state.checks) {
    checks[name] = {
        {"plugin", c.plugin}, {"state", state_name(c.state)}, {"since", to_millis(c.since)}};
  }
  j["checks"] = std::move(checks);
  j["incidents"] = state.incidents;
  nlohmann::ordered_json pending = nlohmann::ordered_json::array();
  for (const Record& r : state.unspooled) {
    pending.push_back({{"kind", static_cast<int>(r.kind)},
                       {"id", r.id},
                       {"json", r.json},
                       {"key", r.key},
                       {"severity", static_cast<int>(r.severity)},
                       {"level", r.escalation_level},
                       {"resolved", r.resolved},
                       {"silenced", r.silenced},
                       {"ack", r.ack}});
  }
  j["pending"] = std::move(pending);
  return dump_json(j) + "\n";
}

Result<std::optional<AgentState>> load_state(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    return std::optional<AgentState>();
  }
  auto text = read_file(path);
  if (!text.ok()) {
    return make_error(text.error());
  }
  return decode_state(text.value(), path);
}

Result<std::optional<AgentState>> decode_state(std::string_view text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) {
    return make_error("state file " + path + " is unusable: " + why);
  };
  if (j.is_discarded() || !j.is_object()) {
    return bad("not a JSON object (truncated?)");
  }
  if (!j.contains("saved_at") || !j["saved_at"].is_number_integer() || !j.contains("checks") ||
      !j["checks"].is_object() || !j.contains("incidents") || !j["incidents"].is_string() ||
      !j.contains("pending") || !j["pending"].is_array()) {
    return bad("fields missing or of the wrong type");
  }
  try {
    return parse_state_document(j, path);
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

namespace {

Result<std::optional<AgentState>> parse_state_document(const json& j, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return make_error("state file " + path + " is unusable: " + why);
  };
  AgentState s;
  s.saved_at = from_millis(j["saved_at"].get<int64_t>());
  for (auto it = j["checks"].begin(); it != j["checks"].end(); ++it) {
    const json& c = it.value();
    if (!c.is_object() || !c.contains("plugin") || !c["plugin"].is_string() ||
        !c.contains("state") || !c["state"].is_string() || !c.contains("since") ||
        !c["since"].is_number_integer()) {
      return bad("check " + it.key() + " is malformed");
    }
    auto state = parse_state(c["state"].get<std::string>());
    if (!state) {
      return bad("check " + it.key() + " has an unknown state");
    }
    s.checks[it.key()] =
        SavedCheck{c["plugin"].get<std::string>(), *state, from_millis(c["since"].get<int64_t>())};
  }
  s.incidents = j["incidents"].get<std::string>();
  for (const json& p : j["pending"]) {
    if (!p.is_object() || !p.contains("kind") || !p["kind"].is_number_integer() ||
        !p.contains("id") || !p["id"].is_string() || !p.contains("json") ||
        !p["json"].is_string()) {
      return bad("a pending record is malformed");
    }
    Record r;
    int kind = p["kind"].get<int>();
    if (kind < 0 || kind > static_cast<int>(RecordKind::kHeartbeat)) {
      return bad("a pending record has an unknown kind");
    }
    r.kind = static_cast<RecordKind>(kind);
    r.id = p["id"].get<std::string>();
    r.json = p["json"].get<std::string>();
    r.key = p.value("key", "");
    int sev = p.value("severity", 0);
    r.severity = static_cast<CheckState>(sev >= 0 && sev <= 3 ? sev : 0);
    r.escalation_level = p.value("level", 0);
    r.resolved = p.value("resolved", false);
    r.silenced = p.value("silenced", false);
    r.ack = p.value("ack", false);
    s.unspooled.push_back(std::move(r));
  }
  return std::optional<AgentState>(std::move(s));
}

}  // namespace

}  // namespace vigil
