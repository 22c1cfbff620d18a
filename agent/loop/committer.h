#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/loop/liveness.h"
#include "agent/loop/uv_handle.h"
#include "agent/records/record.h"
#include "agent/state/state_store.h"

namespace vigil {

// Commit, then route (docs/STATE.md): the records the agent emits and the state
// they announce are saved together before any of them reaches an output. Saves
// run on the thread pool, one at a time; records emitted while one runs wait and
// go into the next (group commit), and are routed once it has finished.
//
// Until every output holds them durably, emitted records stay "unspooled" and are
// part of every save, so that a crash cannot lose them: the next start routes them
// again (receivers deduplicate by id).
//
// A save that fails for lack of space is not fatal: the records are routed all
// the same, the save is retried every second, and error() says why until one
// succeeds. Any other failure (a failed fdatasync) is handed to `fatal`.
class Committer {
 public:
  using Snapshot = std::function<AgentState()>;  // the state, without the records
  using Route = std::function<void(const Record&)>;
  using Fatal = std::function<void(const std::string&)>;

  static constexpr Duration kSaveInterval = std::chrono::seconds(30);
  static constexpr Duration kRetryInterval = std::chrono::seconds(1);
  // A disk that stays full must not grow the saved state without end: beyond this
  // many unspooled records the oldest are no longer saved (they are still in their
  // outputs' queues; only a crash could lose them then).
  static constexpr size_t kMaxUnspooled = 10000;

  Committer(uv_loop_t* loop, std::shared_ptr<StateStore> store, Snapshot snapshot, Route route,
            Fatal fatal);
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Saves every kSaveInterval when something changed (mark_dirty).
  void start();
  // Records that a saved state held but were maybe never spooled: routed at
  // once (they were committed before) and kept until they are durable.
  void restore(std::vector<Record> unspooled);
  // Saves the records with the current state, then routes them.
  void emit(std::vector<Record> records);
  // The state changed in a way that needs no record (an open incident's count):
  // saved within kSaveInterval.
  void mark_dirty() { dirty_ = true; }
  // Every output holds every record routed so far durably.
  void on_all_durable();
  // Stops the timers; routes nothing more.
  void stop();
  // At exit: saves on this thread (after a save still running on the pool).
  // False when the save failed (the caller exits non-zero).
  bool save_at_exit();

  size_t unspooled() const { return unspooled_.size(); }
  // Why the state cannot be saved now (lack of space), empty when it can.
  const std::string& error() const { return error_; }

 private:
  AgentState state() const;
  void commit();
  void on_saved(const SlotFile::SaveResult& result, std::vector<Record> batch);

  uv_loop_t* loop_;
  std::shared_ptr<StateStore> store_;
  Snapshot snapshot_;
  Route route_;
  Fatal fatal_;
  std::deque<Record> unspooled_;  // emitted, maybe not durable in every output yet
  std::vector<Record> waiting_;   // emitted, not yet in a finished save: not routed
  bool saving_ = false;           // a save runs on the pool
  bool again_ = false;            // something changed while it ran
  bool dirty_ = false;            // changed since the last save began
  bool stopped_ = false;
  std::string error_;
  Timer save_timer_;
  Timer retry_timer_;
  Liveness liveness_;  // last member: gone first, so late callbacks find it stale
};

}  // namespace vigil
