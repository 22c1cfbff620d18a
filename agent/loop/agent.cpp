#include "agent/loop/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "agent/loop/pool.h"
#include "agent/plugin/registry.h"
#include "agent/services/service_set.h"
#include "agent/state/state_file.h"
#include "agent/status/status_server.h"
#include "agent/util/fs.h"
#include "agent/util/log.h"
#include "agent/util/uuid.h"

namespace vigil {

Agent::Agent(uv_loop_t* loop, Config config)
    : loop_(loop),
      config_(std::move(config)),
      instance_(uuid_v4()),
      started_(loop_now(loop)),
      incidents_(clock_, config_.agent.hostname),
      events_(clock_, incidents_, config_.agent.hostname),
      self_timer_(loop, [this] { evaluate_self(); }),
      heartbeat_timer_(loop, [this] { emit_heartbeat(); }),
      incident_timer_(loop, [this] { on_incident_tick(); }),
      shutdown_timer_(loop, [this] { finish(0); }) {
  self_.config.name = "vigil";
  self_.config.plugin = "vigil";
  self_.config.tags = config_.agent.tags;
  self_.config.incidents = config_.incidents;
}

Agent::~Agent() {
  if (status_ != nullptr) {
    status_->close();
  }
  checks_.reset();
  outputs_.reset();
}

Status Agent::start() {
  auto lock = StateDirLock::acquire(config_.agent.state_dir);
  if (!lock.ok()) {
    return lock.error_info();
  }
  lock_.emplace(std::move(lock).value());
  store_ = std::make_shared<StateStore>(config_.agent.state_dir);
  committer_ = std::make_unique<Committer>(
      loop_, store_, [this] { return state_to_save(); },
      [this](const Record& r) { outputs_->route(r); }, [this](const std::string& m) { fatal(m); });
  services_ = std::make_unique<ServiceSet>(loop_);
  OutputSet::Callbacks callbacks;
  callbacks.all_durable = [this] { on_durable(); };
  callbacks.acked = [this] {
    if (stopping_) {
      check_drained();  // the last batch went out: exit without waiting longer
    }
  };
  callbacks.open_incidents = [this] { return incidents_.open_incidents_json(); };
  callbacks.fatal = [this](const std::string& m) { fatal(m); };
  outputs_ = std::make_unique<OutputSet>(loop_, config_.agent.state_dir, std::move(callbacks));
  if (Status s = outputs_->open(config_.outputs, agent_info()); !s.ok()) {
    return s;
  }
  CheckSet::Host host{config_.agent.procfs, config_.agent.sysfs, config_.agent.state_dir,
                      services_->services()};
  checks_ = std::make_unique<CheckSet>(
      loop_, host, [this](CheckSlot& slot, const Evaluation& eval, double occurrences) {
        if (!stopping_) {
          handle_evaluation(slot, eval, occurrences);
        }
      });
  load_saved_state();
  checks_->start(config_.checks);
  // Resolve incidents of checks that were removed while the agent was down.
  std::vector<Record> removed;
  for (const std::string& name : incidents_.known_checks()) {
    if (name != "vigil" && !checks_->has(name)) {
      for (Record& r : incidents_.remove_check(name)) {
        removed.push_back(std::move(r));
      }
    }
  }
  if (!removed.empty()) {
    emit(std::move(removed));
  }
  if (config_.agent.status_listen != "off" && !config_.agent.status_listen.empty()) {
    status_ = std::make_unique<StatusServer>(loop_, [this] { return snapshot(); });
    if (Status s = status_->listen(config_.agent.status_listen, config_.agent.state_dir); !s.ok()) {
      return s;
    }
  }
  self_timer_.start(config_.agent.interval, config_.agent.interval);
  if (config_.agent.heartbeat.count() > 0) {
    heartbeat_timer_.start(Duration(0), config_.agent.heartbeat);
  }
  schedule_incident_tick();
  committer_->start();
  log_info("started: " + std::to_string(checks_->slots().size()) + " check(s), " +
           std::to_string(outputs_->size()) + " output(s), state in " + config_.agent.state_dir);
  return {};
}

AgentInfo Agent::agent_info() const {
  return AgentInfo{config_.agent.hostname, VIGIL_VERSION, instance_};
}

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
  committer_->restore(std::move(s.pending));  // spooled again; a receiver deduplicates by id
  if (auto it = s.checks.find("vigil"); it != s.checks.end()) {
    self_.state = it->second.state;
    self_.since = it->second.since;
    s.checks.erase(it);
  }
  checks_->restore(std::move(s.checks));
}

void Agent::handle_evaluation(CheckSlot& slot, const Evaluation& eval, double occurrences) {
  CheckEvents::Outcome out = events_.on_evaluation(slot, eval, occurrences);
  if (!out.records.empty()) {
    emit(std::move(out.records));
  } else if (out.dirty) {
    committer_->mark_dirty();  // an open incident's occurrences moved on
  }
  schedule_incident_tick();
}

// The incident timer sleeps until the incident manager's next deadline
// (escalation, renotify, resolve_after, end of flapping, problem expiry) instead
// of waking every second: an idle agent wakes only for its checks.
void Agent::schedule_incident_tick() {
  if (stopping_) {
    return;
  }
  std::optional<MonotonicTime> due = incidents_.next_deadline();
  if (!due) {
    incident_timer_.stop();
    return;
  }
  MonotonicTime now = loop_now(loop_);
  Duration wait = *due > now ? std::chrono::ceil<Duration>(*due - now) : Duration(0);
  incident_timer_.start(wait + Duration(1));
}

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
        places.push_back(LossPlace{counter, "output " + st.name});
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

void Agent::emit(std::vector<Record> records) { committer_->emit(std::move(records)); }

void Agent::on_durable() {
  committer_->on_all_durable();
  if (stopping_) {
    check_drained();
  }
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

void Agent::on_incident_tick() {
  if (stopping_) {
    return;
  }
  std::vector<Record> records = incidents_.tick();
  if (!records.empty()) {
    emit(std::move(records));
  }
  schedule_incident_tick();
}

void Agent::request_stop() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  log_info("stopping: delivering for up to " +
           std::to_string(config_.agent.shutdown_timeout.count()) + " ms");
  checks_->stop();
  self_timer_.stop();
  heartbeat_timer_.stop();
  incident_timer_.stop();
  committer_->stop();
  shutdown_timer_.start(config_.agent.shutdown_timeout);
  check_drained();
}

void Agent::check_drained() {
  if (outputs_->drained()) {
    finish(0);
  }
}

void Agent::finish(int code) {
  if (finished_) {
    return;
  }
  shutdown_timer_.stop();
  outputs_->stop();
  // Records in flight stay spooled; the state is saved last, as it is now.
  if (services_ != nullptr) {
    services_->flush();
  }
  if (committer_ != nullptr && !committer_->save_at_exit()) {
    exit_code_ = 1;
  }
  finished_ = true;
  if (exit_code_ == 0) {
    exit_code_ = code;
  }
  uv_stop(loop_);
}

void Agent::fatal(const std::string& message) {
  log_error(message + "; exiting (the next start recovers)");
  exit_code_ = 1;
  finished_ = true;
  uv_stop(loop_);
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
    }
    cs.error = c.error;
    cs.last_run = c.last_run;
    cs.log_bytes_skipped = c.lost("log_bytes_skipped");
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

void Agent::apply_config(Config config) {
  if (stopping_) {
    return;
  }
  if (config.agent.state_dir != config_.agent.state_dir ||
      config.agent.status_listen != config_.agent.status_listen ||
      config.agent.procfs != config_.agent.procfs || config.agent.sysfs != config_.agent.sysfs) {
    log_warning("reload: state_dir, status_listen, procfs and sysfs apply at the next start");
    config.agent.state_dir = config_.agent.state_dir;
    config.agent.status_listen = config_.agent.status_listen;
    config.agent.procfs = config_.agent.procfs;
    config.agent.sysfs = config_.agent.sysfs;
  }
  std::vector<Record> records;
  // Checks: keep those with the same name and plugin (their state, incidents and
  // log offsets), restart the changed ones, start the new, resolve the removed.
  for (const std::string& name : checks_->apply(config.checks)) {
    for (Record& r : incidents_.remove_check(name)) {
      records.push_back(std::move(r));
    }
  }
  // Outputs: same name keeps its spool; a changed one is reconfigured in place.
  AgentInfo info{config.agent.hostname, VIGIL_VERSION, instance_};
  outputs_->apply(config.outputs, info);
  self_.config.tags = config.agent.tags;
  self_.config.incidents = config.incidents;
  bool heartbeat_changed = config.agent.heartbeat != config_.agent.heartbeat;
  bool interval_changed = config.agent.interval != config_.agent.interval;
  config_ = std::move(config);
  if (heartbeat_changed) {
    heartbeat_timer_.stop();
    if (config_.agent.heartbeat.count() > 0) {
      heartbeat_timer_.start(config_.agent.heartbeat, config_.agent.heartbeat);
    }
  }
  if (interval_changed) {
    self_timer_.start(config_.agent.interval, config_.agent.interval);
  }
  emit(std::move(records));  // saves the new set of checks too
  schedule_incident_tick();
  log_info("reload: " + std::to_string(checks_->slots().size()) + " check(s), " +
           std::to_string(outputs_->size()) + " output(s)");
}

}  // namespace vigil
