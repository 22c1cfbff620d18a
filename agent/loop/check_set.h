#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/config.h"
#include "agent/loop/check_runner.h"
#include "agent/loop/self_check.h"
#include "agent/rules/evaluator.h"
#include "agent/state/state_file.h"

namespace vigil {

struct Services;

// One configured check as it runs: its rules, its runner, and what it last said.
struct CheckSlot {
  CheckConfig config;
  std::unique_ptr<RuleEvaluator> evaluator;
  std::unique_ptr<CheckRunner> runner;
  std::optional<CheckState> state;
  std::optional<SystemTime> since;
  std::vector<std::pair<std::string, double>> metrics;
  std::optional<std::string> error;
  std::optional<SystemTime> last_run;
  std::vector<std::string> examples;  // first example lines since the last event
  std::vector<LossCount> losses;      // as the plugin last reported them

  uint64_t lost(std::string_view counter) const;
};

// The running checks: start, stop, the reload diff, and samples turned into
// evaluations. What an evaluation means (events, incidents) is the caller's.
class CheckSet {
 public:
  // An evaluation of `slot`'s latest sample (or failure), and the occurrences
  // the sample counted (matching lines, for plugins that count them).
  using OnEvaluation =
      std::function<void(CheckSlot& slot, const Evaluation& eval, double occurrences)>;
  struct Host {
    std::string procfs, sysfs;
    std::string state_dir;  // each check keeps its files in state_dir/checks/NAME
    Services* services = nullptr;
  };

  CheckSet(uv_loop_t* loop, const Clock& clock, Host host, OnEvaluation on_evaluation);
  ~CheckSet();
  CheckSet(const CheckSet&) = delete;
  CheckSet& operator=(const CheckSet&) = delete;

  // States saved at the last run; a started check of the same name and plugin
  // takes its own back.
  void restore(std::map<std::string, SavedCheck> saved) { saved_ = std::move(saved); }
  // Starts every enabled check.
  void start(const std::vector<CheckConfig>& checks);
  // SIGHUP: checks of the same name and plugin keep their state (and their
  // plugin's files); changed ones restart, new ones start. Returns the names of
  // the checks that were removed.
  std::vector<std::string> apply(const std::vector<CheckConfig>& checks);
  // No more collections; results still on their way are ignored.
  void stop();

  const std::vector<std::unique_ptr<CheckSlot>>& slots() const { return slots_; }
  bool has(const std::string& name) const;
  // What to save: the running checks' states, and the saved states of checks
  // that are configured but not running.
  void save_into(std::map<std::string, SavedCheck>& out, SystemTime now) const;
  // Where the checks' plugins lost something, for the self check.
  std::vector<LossPlace> loss_places() const;
  uint64_t lost(std::string_view counter) const;

 private:
  void start_one(CheckSlot& slot);
  void on_result(CheckSlot& slot, Result<Sample> result, MonotonicTime scheduled);

  uv_loop_t* loop_;
  const Clock& clock_;
  Host host_;
  OnEvaluation on_evaluation_;
  std::map<std::string, SavedCheck> saved_;
  std::vector<std::unique_ptr<CheckSlot>> slots_;
  bool stopped_ = false;
  // Every check runs on this beat (see CheckRunner::start): checks of one
  // interval wake the agent once between them.
  MonotonicTime anchor_;
};

}  // namespace vigil
