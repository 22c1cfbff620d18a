#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/incidents/incident_manager.h"
#include "agent/loop/check_events.h"
#include "agent/loop/check_set.h"
#include "agent/loop/committer.h"
#include "agent/loop/self_check.h"
#include "agent/loop/start_up_pages.h"
#include "agent/loop/uv_handle.h"
#include "agent/outputs/formats.h"
#include "agent/outputs/output_set.h"
#include "agent/records/event_record.h"
#include "agent/rules/evaluator.h"
#include "agent/state/state_dir_lock.h"
#include "agent/state/state_file.h"
#include "agent/state/state_store.h"
#include "agent/status/snapshot.h"

namespace vigil {

class ControlApi;
class ServiceSet;
class SilenceKeeper;
class StatusServer;

// The running agent: checks feed rules, rules feed events and incidents, records
// go durably to every output's spool (docs/DELIVERY.md). Lives on one libuv loop; every
// method runs on the loop thread.
class Agent {
 public:
  // Record times and the agent's windows read `clock`; libuv's timers run on the
  // host's monotonic clock whatever it says.
  Agent(uv_loop_t* loop, Config config, const Clock& clock = real_clock());
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Prepares state_dir (lock, spools, saved state) and starts checks. An error
  // means the agent cannot run (exit 1).
  Status start();
  // SIGTERM/SIGINT: stop checks, deliver for up to shutdown_timeout, persist.
  void request_stop();
  // SIGHUP with an already validated configuration.
  void apply_config(Config config);
  bool finished() const { return finished_; }
  int exit_code() const { return exit_code_; }
  const Config& config() const { return config_; }
  StatusSnapshot snapshot() const;
  // One line for systemd's STATUS=.
  std::string summary() const;

 private:
  void load_saved_state();
  Status open_state();
  Status open_outputs();
  void open_silences();
  void start_checks();
  Status open_status();
  void start_timers();
  void settle();
  void keep_start_only_keys(Config& config) const;
  AgentInfo agent_info() const;
  void handle_evaluation(CheckSlot& slot, const Evaluation& eval, double occurrences);
  IncidentManager::AckOutcome acknowledge(const std::string& target, const std::string& author,
                                          const std::string& comment);
  void evaluate_self();
  void emit(std::vector<Record> records);
  AgentState state_to_save() const;
  void emit_heartbeat();
  void on_incident_tick();
  void schedule_incident_tick();
  void on_durable();
  void check_drained();
  void finish(int code);
  void fatal(const std::string& message);
  LossCounters loss() const;

  uv_loop_t* loop_;
  Config config_;
  const Clock& clock_;
  std::string instance_;
  MonotonicTime started_;
  std::optional<StateDirLock> lock_;
  std::unique_ptr<ServiceSet> services_;
  std::unique_ptr<StatusServer> status_;
  IncidentManager incidents_;
  CheckEvents events_;
  std::unique_ptr<CheckSet> checks_;
  std::unique_ptr<OutputSet> outputs_;
  std::shared_ptr<StateStore> store_;
  std::unique_ptr<Committer> committer_;
  // Silences and their windows, and the endpoints that add them and acks
  // (docs/SILENCES.md); after the incident manager, which they refer to.
  std::unique_ptr<SilenceKeeper> silences_;
  std::unique_ptr<ControlApi> control_;
  uint64_t state_corrupt_ = 0;
  // The agent's own check `vigil` (docs/DELIVERY.md: loss is never silent).
  CheckSlot self_;
  SelfCheck self_check_;
  Timer self_timer_;
  Timer heartbeat_timer_;
  Timer incident_timer_;
  Timer shutdown_timer_;
  StartUpPages start_up_pages_;
  bool stopping_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
};

}  // namespace vigil
