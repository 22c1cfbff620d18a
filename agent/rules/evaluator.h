#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/plugin/collector.h"
#include "agent/rules/rule.h"
#include "agent/util/time.h"

namespace vigil {

// The outcome of one evaluation of a check: its state and what an event for it
// would say (docs/RECORDS.md `event`: metric, value, rule, message).
struct Evaluation {
  std::optional<CheckState> state;  // nullopt: no state yet (failures below unknown_after)
  std::optional<std::string> metric;
  std::optional<double> value;
  std::optional<std::string> rule;  // the rule's text
  std::string message;
};

// Applies a check's rules to its samples (docs/CONFIGURATION.md, Rules): `for`, `clear`
// hysteresis, worst firing rule, state codes, unknown_after.
class RuleEvaluator {
 public:
  RuleEvaluator(std::string check_name, std::vector<Rule> rules, int unknown_after,
                bool once_mode = false);

  // A successful collection, evaluated at `now` (its scheduled time).
  Evaluation on_sample(const Sample& sample, MonotonicTime now);
  // A failed collection (error, exception, timeout, skipped run).
  Evaluation on_failure(const std::string& error, MonotonicTime now);

  // Restores the state saved before a restart (rule runs start afresh).
  void restore_state(std::optional<CheckState> state);
  std::optional<CheckState> state() const { return state_; }
  const std::vector<Rule>& rules() const { return rules_; }

  // A value as event messages write it: no trailing zeros (96.2, 42, 1073741824).
  static std::string format_value(double value);

 private:
  // Where an event's metric, value and rule come from: a rule (its index), the
  // plugin's state code (a first rule, Sample::state_code), or nothing.
  static constexpr int kNoSource = -1;
  static constexpr int kStateCode = -2;

  struct RuleRun {
    bool has_run = false;  // an unbroken run of true evaluations is under way
    MonotonicTime run_start{};
    bool firing = false;
  };

  // Updates the run and firing flag of rule i with this sample's value (null: missing).
  // Returns true when the rule stopped firing at this evaluation.
  bool step(size_t i, const double* value, MonotonicTime now);
  Evaluation describe(const Sample& sample, CheckState state, int source, bool stopped) const;

  std::string check_name_;
  std::vector<Rule> rules_;
  std::vector<RuleRun> runs_;
  int unknown_after_;
  bool once_mode_;
  int failures_ = 0;
  std::optional<CheckState> state_;
  CheckState code_state_ = CheckState::kOk;  // what the last state code said
  int last_stopped_ = kNoSource;             // the rule (or state code) that stopped firing last
  Evaluation last_;  // what the check said last (kept while failures < unknown_after)
};

}  // namespace vigil
