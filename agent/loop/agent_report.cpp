#include <iterator>

#include "agent/loop/agent.h"
#include "agent/util/uuid.h"

// What the agent says about itself: its loss counters, its own check `vigil`,
// the status snapshot that /status and /metrics serve, and systemd's STATUS= line.
namespace vigil {
namespace {

// For `dropped`: which kinds of record it dropped since start, ": 3 event, 1 heartbeat".
std::string dropped_kinds(const char* counter, const OutputStatus& st) {
  if (std::string_view(counter) != "dropped") {
    return "";
  }
  std::string kinds;
  for (size_t k = 0; k < kRecordKinds; ++k) {
    if (st.dropped_by_kind[k] > 0) {
      kinds += (kinds.empty() ? ": " : ", ") + std::to_string(st.dropped_by_kind[k]) + " " +
               kRecordKindNames[k];
    }
  }
  return kinds;
}

}  // namespace

LossCounters Agent::loss() const {
  LossCounters l = outputs_->loss();
  l.corrupt_frames += state_corrupt_;
  l.log_bytes_skipped = checks_->lost("log_bytes_skipped");
  return l;
}

void Agent::evaluate_self() {
  if (stopping_) {
    return;
  }
  std::vector<LossPlace> places;
  for (const OutputStatus& st : outputs_->statuses()) {
    const std::pair<const char*, uint64_t> counts[] = {{"dropped", st.dropped},
                                                       {"corrupt_frames", st.corrupt_frames},
                                                       {"dead_lettered", st.dead_lettered}};
    for (const auto& [counter, n] : counts) {
      if (n > 0) {
        places.push_back(LossPlace{counter, "output " + st.name + dropped_kinds(counter, st)});
      }
    }
  }
  if (state_corrupt_ > 0) {
    places.push_back(LossPlace{"corrupt_frames", "the state file"});
  }
  for (LossPlace& p : checks_->loss_places()) {
    places.push_back(std::move(p));
  }
  std::vector<StorageProblem> storage;
  for (const OutputStatus& st : outputs_->statuses()) {
    if (!st.storage_error.empty()) {
      storage.push_back(
          StorageProblem{"the spool of output " + st.name, st.storage_error, st.memory_records});
    }
  }
  if (!committer_->error().empty()) {
    storage.push_back(StorageProblem{"state_dir " + config_.agent.state_dir, committer_->error(),
                                     committer_->unspooled()});
  }
  Evaluation eval = self_check_.evaluate(loop_now(loop_), loss(), places, storage);
  self_.metrics = self_check_.metrics();
  self_.last_run = clock_.wall();
  handle_evaluation(self_, eval, 0);
}

StatusSnapshot Agent::snapshot() const {
  StatusSnapshot s;
  s.host = config_.agent.hostname;
  s.version = VIGIL_VERSION;
  s.instance = instance_;
  s.uptime_seconds = to_seconds(std::chrono::duration_cast<Duration>(loop_now(loop_) - started_));
  auto add = [&](const CheckSlot& c) {
    CheckStatus cs;
    cs.name = c.config.name;
    cs.plugin = c.config.plugin;
    cs.state = c.state;
    cs.since = c.since;
    cs.metrics = c.metrics;
    if (c.config.plugin_def != nullptr) {
      cs.metric_names.assign(c.config.plugin_def->metrics.begin(),
                             c.config.plugin_def->metrics.end());
      for (std::string_view counter : c.config.plugin_def->losses) {
        cs.losses.emplace_back(std::string(counter), c.lost(counter));
      }
    }
    cs.error = c.error;
    cs.last_run = c.last_run;
    s.checks.push_back(std::move(cs));
  };
  for (const auto& c : checks_->slots()) {
    add(*c);
  }
  add(self_);
  s.checks.back().metric_names.assign(std::begin(SelfCheck::kMetrics),
                                      std::end(SelfCheck::kMetrics));
  s.incidents = incidents_.open_incidents_json();
  s.problems = incidents_.open_problems_json();
  s.outputs = outputs_->statuses();
  s.loss = loss();
  return s;
}

std::string Agent::summary() const {
  size_t bad = 0;
  for (const auto& c : checks_->slots()) {
    if (c->state && *c->state != CheckState::kOk) {
      ++bad;
    }
  }
  uint64_t spooled = outputs_->spooled();
  return std::to_string(checks_->slots().size()) + " checks, " + std::to_string(bad) + " not ok, " +
         std::to_string(incidents_.open_incident_count()) + " incidents open, " +
         std::to_string(spooled) + " records spooled";
}

void Agent::emit_heartbeat() {
  if (stopping_) {
    return;
  }
  HeartbeatFields f;
  f.host = config_.agent.hostname;
  f.tags = config_.agent.tags;
  f.uptime_seconds = to_seconds(std::chrono::duration_cast<Duration>(loop_now(loop_) - started_));
  f.spool_records = outputs_->spooled();
  f.loss = loss();
  SystemTime now = clock_.wall();
  // Saved with the state like any record: once one output has it durable (a
  // file: output may write it at once), a kill -9 must not lose it for another.
  emit({make_heartbeat_record(f, uuid_v7(now), now)});
}

}  // namespace vigil
