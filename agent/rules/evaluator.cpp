#include "agent/rules/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace vigil {

namespace {

bool holds(double v, Op op, double threshold) {
  switch (op) {
    case Op::kGt:
      return v > threshold;
    case Op::kGe:
      return v >= threshold;
    case Op::kLt:
      return v < threshold;
    case Op::kLe:
      return v <= threshold;
    case Op::kEq:
      return v == threshold;
    case Op::kNe:
      return v != threshold;
  }
  return false;
}

// A firing rule with `clear` keeps firing through false evaluations until its
// value is strictly past the clear value (docs/CONFIGURATION.md, Rules). A value
// that is past the clear value but still makes the rule true (a clear set on the
// wrong side of the threshold) does not stop it: a rule that holds always keeps
// firing.
bool held_by_clear(const Rule& rule, double v) {
  if (!rule.clear) {
    return false;
  }
  switch (rule.op) {
    case Op::kGt:
    case Op::kGe:
      return !(v < *rule.clear);
    case Op::kLt:
    case Op::kLe:
      return !(v > *rule.clear);
    case Op::kEq:
    case Op::kNe:
      return false;
  }
  return false;
}

// A plugin's state code (Sample::state_code, a Nagios exit code) as a first rule:
// 0 ok, 1 warning, 2 critical, anything else (3 or more, or a negative code) unknown.
CheckState state_of_code(int code) {
  switch (code) {
    case 0:
      return CheckState::kOk;
    case 1:
      return CheckState::kWarning;
    case 2:
      return CheckState::kCritical;
    default:
      return CheckState::kUnknown;
  }
}

}  // namespace

RuleEvaluator::RuleEvaluator(std::string check_name, std::vector<Rule> rules, int unknown_after,
                             bool once_mode)
    : check_name_(std::move(check_name)),
      rules_(std::move(rules)),
      runs_(rules_.size()),
      // A check must turn unknown at some point: anything below 1 means the first failure.
      unknown_after_(std::max(1, unknown_after)),
      once_mode_(once_mode) {}

std::string RuleEvaluator::format_value(double value) {
  if (value == 0) {
    return "0";  // also -0, which %g would print as "-0"
  }
  // Twelve significant digits print 96.2 as "96.2" and 1073741824 whole, and are
  // still precise enough that a value just past a threshold never prints as the
  // threshold itself (a message "is 95 (critical: x > 95)" would read as a bug).
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.12g", value);
  return buf;
}

bool RuleEvaluator::step(size_t i, const double* value, MonotonicTime now) {
  RuleRun& run = runs_[i];
  const Rule& rule = rules_[i];
  if (value == nullptr) {
    // A missing metric breaks the run and stops a firing rule: a rule on an absent
    // metric does not fire (docs/RECORDS.md `event`).
    run.has_run = false;
    return std::exchange(run.firing, false);
  }
  if (!holds(*value, rule.op, rule.value)) {
    run.has_run = false;
    if (run.firing && !held_by_clear(rule, *value)) {
      run.firing = false;
      return true;
    }
    return false;
  }
  if (!run.has_run) {
    run.has_run = true;
    run.run_start = now;
  }
  // `once` has no history, so a rule that needs one (`for`) can never fire there.
  bool may_fire = !once_mode_ || rule.for_duration == Duration::zero();
  if (!run.firing && may_fire && now - run.run_start >= rule.for_duration) {
    run.firing = true;
  }
  return false;
}

Evaluation RuleEvaluator::on_sample(const Sample& sample, MonotonicTime now) {
  failures_ = 0;

  // Among rules that stop at this same evaluation, the one reported is the one that
  // was worst (the state code first, then file order among equals): it is the one the
  // previous event named.
  int stopped_now = kNoSource;
  CheckState stopped_state = CheckState::kOk;
  CheckState code_state = CheckState::kOk;
  if (sample.state_code) {
    code_state = state_of_code(*sample.state_code);
    if (code_state_ != CheckState::kOk && code_state == CheckState::kOk) {
      stopped_now = kStateCode;
      stopped_state = code_state_;
    }
  }
  code_state_ = code_state;
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (step(i, sample.find(rules_[i].metric), now) &&
        (stopped_now == kNoSource || rules_[i].severity > stopped_state)) {
      stopped_now = static_cast<int>(i);
      stopped_state = rules_[i].severity;
    }
  }
  if (stopped_now != kNoSource) {
    last_stopped_ = stopped_now;
  }

  // The worst firing rule decides; the state code counts as a first rule, so it wins
  // ties, and a state code of 3 or more (unknown) beats every rule.
  CheckState state = code_state;
  int source = code_state == CheckState::kOk ? kNoSource : kStateCode;
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (runs_[i].firing && rules_[i].severity > state) {
      state = rules_[i].severity;
      source = static_cast<int>(i);
    }
  }

  bool stopped = false;
  if (source == kNoSource) {
    if (last_stopped_ != kNoSource) {
      source = last_stopped_;
      stopped = true;
    } else if (sample.state_code) {
      // A check whose plugin reports a state code, that is ok and has never had a
      // firing rule or a non-zero code, reports its code (`status` 0) rather than
      // nulls: the code is its first rule, and an `event` reports `status` for such
      // checks without rules (docs/RECORDS.md).
      source = kStateCode;
    }
  }

  state_ = state;
  last_ = describe(sample, state, source, stopped);
  return last_;
}

Evaluation RuleEvaluator::describe(const Sample& sample, CheckState state, int source,
                                   bool stopped) const {
  Evaluation ev;
  ev.state = state;
  if (source == kStateCode) {
    ev.metric = "status";
    if (sample.state_code) {
      ev.value = static_cast<double>(*sample.state_code);
    }
  } else if (source >= 0) {
    const Rule& rule = rules_[static_cast<size_t>(source)];
    ev.metric = rule.metric;
    if (const double* v = sample.find(rule.metric)) {
      ev.value = *v;
    }
    ev.rule = rule.text;
  }

  // An exec check's own message says more than any sentence of ours. An empty one
  // (a plugin that printed nothing) says nothing, so the sentence replaces it.
  if (sample.message && !sample.message->empty()) {
    ev.message = *sample.message;
    return ev;
  }
  if (source == kNoSource) {
    ev.message = check_name_ + " is ok";
    return ev;
  }
  std::string value = ev.value ? format_value(*ev.value) : std::string("missing");
  ev.message =
      check_name_ + ": " + *ev.metric + " is " + value + " (" + std::string(state_name(state));
  if (ev.rule) {
    ev.message += ": " + *ev.rule;
    if (stopped) {
      ev.message += " no longer holds";
    }
  }
  ev.message += ")";
  return ev;
}

Evaluation RuleEvaluator::on_failure(const std::string& error, MonotonicTime now) {
  (void)now;
  // A failed collection breaks every run, but firing rules keep firing: a failure is
  // no evaluation, and a check that comes back still over a `for 5m` threshold should
  // not report a false `ok` for five minutes (nor after it was `unknown`).
  for (RuleRun& run : runs_) {
    run.has_run = false;
  }
  ++failures_;
  if (failures_ < unknown_after_) {
    return last_;  // the check keeps its state, and what it said
  }
  state_ = CheckState::kUnknown;
  last_ = Evaluation{};
  last_.state = CheckState::kUnknown;
  last_.message = error;
  return last_;
}

void RuleEvaluator::restore_state(std::optional<CheckState> state) {
  state_ = state;
  failures_ = 0;
  runs_.assign(rules_.size(), RuleRun{});
  code_state_ = CheckState::kOk;
  last_stopped_ = kNoSource;
  last_ = Evaluation{};
  last_.state = state;
  if (state) {
    last_.message = check_name_ + " is " + std::string(state_name(*state));
  }
}

}  // namespace vigil
