#include <algorithm>

#include "agent/loop/agent.h"
#include "agent/util/log.h"

// What the agent keeps across restarts (docs/STATE.md): check states, the
// incident document and the records not yet spooled, loaded once at start and
// handed to the committer at every save.
namespace vigil {

void Agent::load_saved_state() {
  StateStore::Loaded loaded = store_->load();
  state_corrupt_ += loaded.corrupt;
  for (const std::string& e : loaded.errors) {
    log_error(e);
  }
  if (!loaded.state) {
    return;
  }
  AgentState& s = *loaded.state;
  const std::string& path = store_->base();
  SystemTime now = clock_.wall();
  Duration downtime = std::max(Duration(0), std::chrono::duration_cast<Duration>(now - s.saved_at));
  if (!s.incidents.empty()) {
    if (Status st = incidents_.load(s.incidents, downtime); !st.ok()) {
      ++state_corrupt_;
      log_error("incident state in " + path + " is unusable: " + st.error() +
                "; starting without it");
    }
  }
  committer_->restore(std::move(s.unspooled));  // spooled again; a receiver deduplicates by id
  if (auto it = s.checks.find("vigil"); it != s.checks.end()) {
    self_.state = it->second.state;
    self_.since = it->second.since;
    s.checks.erase(it);
  }
  checks_->restore(std::move(s.checks));
}

AgentState Agent::state_to_save() const {
  AgentState s;
  s.saved_at = clock_.wall();
  checks_->save_into(s.checks, s.saved_at);
  if (self_.state) {
    s.checks["vigil"] = SavedCheck{"vigil", *self_.state, self_.since.value_or(s.saved_at)};
  }
  s.incidents = incidents_.save();
  return s;
}

}  // namespace vigil
