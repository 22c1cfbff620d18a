#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/incidents/incident_manager.h"
#include "agent/loop/check_runner.h"
#include "agent/loop/uv_handle.h"
#include "agent/outputs/formats.h"
#include "agent/outputs/output.h"
#include "agent/records/event_record.h"
#include "agent/rules/evaluator.h"
#include "agent/state/state_file.h"
#include "agent/state/state_store.h"
#include "agent/status/snapshot.h"

namespace vigil {

class HttpClient;
class ServiceSet;
class StatusServer;

// The running agent: checks feed rules, rules feed events and incidents, records
// go durably to every output's spool (docs/DELIVERY.md). Lives on one libuv loop; every
// method runs on the loop thread.
class Agent {
 public:
  Agent(uv_loop_t* loop, Config config);
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
  struct CheckSlot {
    CheckConfig config;
    std::unique_ptr<RuleEvaluator> evaluator;
    std::unique_ptr<CheckRunner> runner;
    std::optional<CheckState> state;
    std::optional<SystemTime> since;
    std::vector<std::pair<std::string, double>> metrics;
    std::optional<std::string> error;
    std::optional<SystemTime> last_run;
    std::vector<std::string> sample_lines;  // log: first matching lines since the last event
    std::vector<LossCount> losses;          // as the plugin last reported them
    uint64_t lost(std::string_view counter) const;
  };

  Status lock_state_dir();
  void load_saved_state();
  Status open_outputs(const std::vector<OutputConfig>& outputs);
  std::unique_ptr<Sink> make_sink(const OutputConfig& oc, const AgentInfo& info);
  void start_check(CheckSlot& slot, size_t index);
  void on_check_result(CheckSlot& slot, Result<Sample> result, MonotonicTime scheduled);
  void handle_evaluation(CheckSlot& slot, const Evaluation& eval, double matched_lines);
  void evaluate_self();
  void emit(std::vector<Record> records);
  void route(const Record& r);
  AgentState state_to_save() const;
  void commit();
  void on_committed(const SlotFile::SaveResult& result, std::vector<Record> batch);
  void save_state_at_exit();
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
  RealClock clock_;
  std::string instance_;
  MonotonicTime started_;
  int lock_fd_ = -1;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<ServiceSet> services_;
  std::unique_ptr<StatusServer> status_;
  IncidentManager incidents_;
  std::vector<std::unique_ptr<CheckSlot>> checks_;
  std::vector<std::unique_ptr<Output>> outputs_;
  std::map<std::string, SavedCheck> saved_checks_;  // as loaded at start
  std::shared_ptr<StateStore> store_;
  // Records emitted but maybe not durable in every spool yet: the state file keeps
  // them, so that a crash cannot lose them. Bounded by kMaxPending.
  std::deque<Record> pending_;
  // Emitted records waiting for a state save that holds them; routed after it.
  std::vector<Record> uncommitted_;
  bool saving_ = false;       // a state save runs on the thread pool
  bool save_again_ = false;   // something changed while it ran
  bool state_dirty_ = false;  // the state changed since the last save began
  // The last save's failure for lack of space (empty when the state is durable).
  std::string state_error_;
  uint64_t state_corrupt_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // The agent's own check `vigil` (docs/DELIVERY.md: loss is never silent).
  CheckSlot self_;
  std::deque<std::pair<MonotonicTime, LossCounters>> loss_history_;
  Timer self_timer_;
  Timer heartbeat_timer_;
  Timer incident_timer_;
  Timer save_timer_;
  Timer save_retry_timer_;
  Timer shutdown_timer_;
  bool stopping_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
};

}  // namespace vigil
