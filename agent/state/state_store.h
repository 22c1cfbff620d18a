#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/state/slot_file.h"
#include "agent/state/state_file.h"

namespace vigil {

// Where the agent's state lives: `state_dir/state.0` and `state.1`, two
// preallocated slots (slot_file.h), so that a save still succeeds on a full disk.
// A `state.json` left by an earlier version is read once and removed after the
// first save.
class StateStore {
 public:
  struct Loaded {
    std::optional<AgentState> state;
    // Damaged state files set aside (each one counts as corrupt), and what to log.
    uint64_t corrupt = 0;
    std::vector<std::string> errors;
  };

  explicit StateStore(const std::string& state_dir, SlotFile::SyncFn sync = {});

  // Blocking; once, at start, before any save.
  Loaded load();
  // Blocking: writes the state durably. Safe to call from any thread; calls are
  // serialised, so a final save at shutdown waits for one running on the pool.
  SlotFile::SaveResult save(const AgentState& state);
  // The files' common prefix, `state_dir/state`, for messages.
  const std::string& base() const { return base_; }

 private:
  std::string base_;
  std::string legacy_;
  std::mutex mu_;
  SlotFile slots_;  // guarded by mu_
  bool legacy_present_ = false;
};

}  // namespace vigil
