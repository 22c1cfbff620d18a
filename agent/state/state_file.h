#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/records/record.h"
#include "agent/rules/rule.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

struct SavedCheck {
  std::string plugin;
  CheckState state = CheckState::kOk;
  SystemTime since{};
};

// What survives a restart besides spools and log offsets: check states, the
// incident manager's document, and the records that announce them but may not
// be spooled yet. They are written together, so a crash between the two never
// announces a state that was not saved, nor loses the records that announce it.
struct AgentState {
  SystemTime saved_at{};
  std::map<std::string, SavedCheck> checks;
  std::string incidents;  // IncidentManager::save()
  // Committed records some output has not spooled yet (the document's "pending").
  std::vector<Record> unspooled;
};

// The state as one JSON document (kept by StateStore).
std::string encode_state(const AgentState& state);
// The state in `text`; an Error naming `where` when it cannot be used.
Result<std::optional<AgentState>> decode_state(std::string_view text, const std::string& where);
// A whole state file as an earlier version wrote it (state_dir/state.json): nullopt
// when there is no file; an Error when it exists but cannot be used.
Result<std::optional<AgentState>> load_state(const std::string& path);

}  // namespace vigil
