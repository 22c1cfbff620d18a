#include "agent/loop/agent.h"

#include <algorithm>
#include <functional>

#include "agent/loop/control_api.h"
#include "agent/loop/pool.h"
#include "agent/loop/silence_keeper.h"
#include "agent/services/service_set.h"
#include "agent/state/state_file.h"
#include "agent/status/status_server.h"
#include "agent/util/fs.h"
#include "agent/util/log.h"
#include "agent/util/uuid.h"

namespace vigil {

Agent::Agent(uv_loop_t* loop, Config config, const Clock& clock)
    : loop_(loop),
      config_(std::move(config)),
      clock_(clock),
      instance_(uuid_v4()),
      started_(loop_now(loop)),
      incidents_(clock_, config_.agent.hostname),
      events_(clock_, incidents_, config_.agent.hostname),
      self_timer_(loop, [this] { evaluate_self(); }),
      heartbeat_timer_(loop, [this] { emit_heartbeat(); }),
      incident_timer_(loop, [this] { on_incident_tick(); }),
      shutdown_timer_(loop, [this] { finish(0); }),
      start_up_pages_(loop) {
  self_.config.name = "vigil";
  self_.config.plugin = "vigil";
  self_.config.tags = config_.agent.tags;
  self_.config.incidents = config_.incidents;
}

Agent::~Agent() {
  if (status_ != nullptr) {
    status_->close();
  }
  control_.reset();
  silences_.reset();
  checks_.reset();
  outputs_.reset();
}

// Start-up reads like the loop it prepares: one phase a call.
Status Agent::start() {
  if (Status s = open_state(); !s.ok()) {
    return s;
  }
  services_ = std::make_unique<ServiceSet>(loop_);
  if (Status s = open_outputs(); !s.ok()) {
    return s;
  }
  open_silences();
  start_checks();
  if (Status s = open_status(); !s.ok()) {
    return s;
  }
  start_timers();
  log_info("started: " + std::to_string(checks_->slots().size()) + " check(s), " +
           std::to_string(outputs_->size()) + " output(s), state in " + config_.agent.state_dir);
  return {};
}

// The state_dir's lock, then the state store and what commits to it.
Status Agent::open_state() {
  auto lock = StateDirLock::acquire(config_.agent.state_dir);
  if (!lock.ok()) {
    return lock.error_info();
  }
  lock_.emplace(std::move(lock).value());
  store_ = std::make_shared<StateStore>(config_.agent.state_dir);
  committer_ = std::make_unique<Committer>(
      loop_, store_, [this] { return state_to_save(); },
      [this](const Record& r) { outputs_->route(r); }, [this](const std::string& m) { fatal(m); });
  return {};
}

Status Agent::open_outputs() {
  OutputSet::Callbacks callbacks;
  callbacks.all_durable = [this] { on_durable(); };
  callbacks.acked = [this] {
    if (stopping_) {
      check_drained();  // the last batch went out: exit without waiting longer
    }
  };
  callbacks.open_incidents = [this] { return incidents_.open_incident_records(); };
  callbacks.fatal = [this](const std::string& m) { fatal(m); };
  outputs_ = std::make_unique<OutputSet>(loop_, config_.agent.state_dir, std::move(callbacks));
  return outputs_->open(config_.outputs, agent_info());
}

// The silences, before the saved incidents meet them: they decide what the
// first records of those incidents say.
void Agent::open_silences() {
  silences_ = std::make_unique<SilenceKeeper>(
      loop_, clock_, incidents_, config_.agent.state_dir, *services_->services()->saver,
      [this](std::vector<Record> r) { emit(std::move(r)); });
  state_corrupt_ += silences_->load();
  silences_->set_windows(config_.silences);
  control_ = std::make_unique<ControlApi>(
      loop_, *silences_,
      [this](const std::string& target, const std::string& author, const std::string& comment) {
        return acknowledge(target, author, comment);
      });
}

// Loads the saved state (check states, incidents, unspooled records), starts the
// checks, and resolves the incidents of checks removed while the agent was down.
void Agent::start_checks() {
  CheckSet::Host host{config_.agent.procfs, config_.agent.sysfs, config_.agent.state_dir,
                      services_->services()};
  checks_ = std::make_unique<CheckSet>(
      loop_, clock_, host, [this](CheckSlot& slot, const Evaluation& eval, double occurrences) {
        if (!stopping_) {
          handle_evaluation(slot, eval, occurrences);
        }
      });
  load_saved_state();
  checks_->start(config_.checks);
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
  silences_->after_incidents();
}

Status Agent::open_status() {
  if (config_.agent.status_listen == "off" || config_.agent.status_listen.empty()) {
    return {};
  }
  status_ = std::make_unique<StatusServer>(loop_, [this] { return snapshot(); });
  status_->set_control([this](const StatusRequest& req, const Peer& peer, Responder respond) {
    control_->handle(req, peer, std::move(respond));
  });
  return status_->listen(config_.agent.status_listen, config_.agent.state_dir);
}

void Agent::start_timers() {
  self_timer_.start(config_.agent.interval, config_.agent.interval);
  if (config_.agent.heartbeat.count() > 0) {
    heartbeat_timer_.start(Duration(0), config_.agent.heartbeat);
  }
  schedule_incident_tick();
  silences_->start();
  committer_->start();
  settle();
}

// Two intervals after a start or a reload, every check has collected and the
// outputs have sent (and shaken hands): what start-up alone used can go.
void Agent::settle() {
  start_up_pages_.schedule(
      std::clamp<Duration>(2 * config_.agent.interval, Duration(1000), Duration(60000)));
}

AgentInfo Agent::agent_info() const {
  return AgentInfo{config_.agent.hostname, VIGIL_VERSION, instance_};
}

void Agent::handle_evaluation(CheckSlot& slot, const Evaluation& eval, double occurrences) {
  CheckEvents::Outcome out = events_.on_evaluation(slot, eval, occurrences);
  if (!out.records.empty()) {
    emit(std::move(out.records));
  } else if (out.dirty) {
    committer_->mark_dirty();  // an open incident's occurrences moved on
  }
  silences_->after_incidents();
  schedule_incident_tick();
}

// `vigil ack`: the ack record is committed like any record.
IncidentManager::AckOutcome Agent::acknowledge(const std::string& target, const std::string& author,
                                               const std::string& comment) {
  IncidentManager::AckOutcome out = incidents_.acknowledge(target, author, comment);
  if (!out.records.empty()) {
    emit(out.records);
  }
  schedule_incident_tick();  // an acked incident has no escalation deadline
  return out;
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

void Agent::emit(std::vector<Record> records) { committer_->emit(std::move(records)); }

void Agent::on_durable() {
  committer_->on_all_durable();
  if (stopping_) {
    check_drained();
  }
}

void Agent::on_incident_tick() {
  if (stopping_) {
    return;
  }
  std::vector<Record> records = incidents_.tick();
  if (!records.empty()) {
    emit(std::move(records));
  }
  silences_->after_incidents();
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
  silences_->stop();
  committer_->stop();
  start_up_pages_.stop();
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

// SIGHUP with a valid configuration: checks and outputs that remain keep their
// state, spools and offsets; the rest start or stop.
void Agent::apply_config(Config config) {
  if (stopping_) {
    return;
  }
  keep_start_only_keys(config);
  bool heartbeat_changed = config.agent.heartbeat != config_.agent.heartbeat;
  bool interval_changed = config.agent.interval != config_.agent.interval;
  config_ = std::move(config);
  std::vector<Record> records;
  for (const std::string& removed : checks_->apply(config_.checks)) {
    for (Record& r : incidents_.remove_check(removed)) {
      records.push_back(std::move(r));
    }
  }
  outputs_->apply(config_.outputs, agent_info());
  events_.set_host(config_.agent.hostname);
  self_.config.tags = config_.agent.tags;
  self_.config.incidents = config_.incidents;
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
  silences_->after_incidents();
  silences_->set_windows(config_.silences);
  schedule_incident_tick();
  settle();
  log_info("reload: " + std::to_string(checks_->slots().size()) + " check(s), " +
           std::to_string(outputs_->size()) + " output(s)");
}

// Where the agent keeps its files and what it listens on cannot move under it.
void Agent::keep_start_only_keys(Config& config) const {
  AgentConfig& next = config.agent;
  const AgentConfig& now = config_.agent;
  if (next.state_dir != now.state_dir || next.status_listen != now.status_listen ||
      next.procfs != now.procfs || next.sysfs != now.sysfs) {
    log_warning("reload: state_dir, status_listen, procfs and sysfs apply at the next start");
    next.state_dir = now.state_dir;
    next.status_listen = now.status_listen;
    next.procfs = now.procfs;
    next.sysfs = now.sysfs;
  }
}

}  // namespace vigil
