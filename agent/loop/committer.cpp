#include "agent/loop/committer.h"

#include "agent/loop/pool.h"
#include "agent/util/log.h"

namespace vigil {

Committer::Committer(uv_loop_t* loop, std::shared_ptr<StateStore> store, Snapshot snapshot,
                     Route route, Fatal fatal)
    : loop_(loop),
      store_(std::move(store)),
      snapshot_(std::move(snapshot)),
      route_(std::move(route)),
      fatal_(std::move(fatal)),
      save_timer_(loop,
                  [this] {
                    if (dirty_) {
                      commit();
                    }
                  }),
      retry_timer_(loop, [this] { commit(); }) {}

Committer::~Committer() = default;

void Committer::start() { save_timer_.start(kSaveInterval, kSaveInterval); }

void Committer::restore(std::vector<Record> unspooled) {
  for (Record& r : unspooled) {
    route_(r);
    unspooled_.push_back(std::move(r));
  }
}

void Committer::emit(std::vector<Record> records) {
  for (Record& r : records) {
    unspooled_.push_back(r);
    waiting_.push_back(std::move(r));
  }
  while (unspooled_.size() > kMaxUnspooled) {
    unspooled_.pop_front();
  }
  commit();
}

AgentState Committer::state() const {
  AgentState s = snapshot_();
  s.unspooled.assign(unspooled_.begin(), unspooled_.end());
  return s;
}

void Committer::commit() {
  if (stopped_) {
    return;
  }
  if (saving_) {
    again_ = true;
    return;
  }
  retry_timer_.stop();
  again_ = false;
  dirty_ = false;
  saving_ = true;
  auto snapshot = std::make_shared<AgentState>(state());
  auto batch = std::make_shared<std::vector<Record>>(std::move(waiting_));
  waiting_.clear();
  auto result = std::make_shared<SlotFile::SaveResult>();
  std::shared_ptr<StateStore> store = store_;
  Liveness::Token alive = liveness_.guard();
  bool queued = run_on_pool(
      loop_, [store, snapshot, result] { *result = store->save(*snapshot); },
      [this, alive, result, batch] {
        if (alive.valid()) {
          on_saved(*result, std::move(*batch));
        }
      });
  if (!queued) {
    saving_ = false;
    fatal_("cannot queue a state save");
  }
}

void Committer::on_saved(const SlotFile::SaveResult& result, std::vector<Record> batch) {
  saving_ = false;
  switch (result.outcome) {
    case SlotFile::Outcome::kOk:
      if (!error_.empty()) {
        log_info("state saved again");
        error_.clear();
      }
      break;
    case SlotFile::Outcome::kNoSpace:
      // Not fatal: the agent must go on to report the full disk. The records go
      // out all the same; the state is saved as soon as the disk has room.
      if (error_.empty()) {
        log_warning("cannot save state: " + result.error + "; retrying every second");
      }
      error_ = result.error;
      dirty_ = true;
      if (!stopped_) {
        retry_timer_.start(kRetryInterval);
      }
      break;
    case SlotFile::Outcome::kFailed:
      // A failed fsync may have lost data that cannot be seen: exit and recover.
      fatal_("cannot save state: " + result.error);
      return;
  }
  if (stopped_) {
    return;  // what was not routed is saved at exit and routed at the next start
  }
  for (const Record& r : batch) {
    route_(r);
  }
  if (again_ || !waiting_.empty()) {
    commit();
  }
}

void Committer::on_all_durable() {
  if (saving_ || !waiting_.empty()) {
    return;  // some records are not routed yet
  }
  if (!unspooled_.empty()) {
    unspooled_.clear();
    dirty_ = true;  // the saved state need not carry them any more
  }
}

void Committer::stop() {
  stopped_ = true;
  save_timer_.stop();
  retry_timer_.stop();
}

bool Committer::save_at_exit() {
  SlotFile::SaveResult r = store_->save(state());
  switch (r.outcome) {
    case SlotFile::Outcome::kOk:
      return true;
    case SlotFile::Outcome::kNoSpace:
      log_error("cannot save state: " + r.error + "; the next start begins from the last saved");
      return true;
    case SlotFile::Outcome::kFailed:
      log_error("cannot save state: " + r.error);
      return false;
  }
  return false;
}

}  // namespace vigil
