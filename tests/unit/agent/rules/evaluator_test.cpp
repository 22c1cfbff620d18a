#include "agent/rules/evaluator.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vigil {
namespace {

// Rules are built by hand here: parsing their text is rule.cpp's job.
Rule make_rule(std::string metric, Op op, double value, CheckState severity, std::string text,
               Duration for_duration = Duration::zero(), std::optional<double> clear = {}) {
  Rule r;
  r.metric = std::move(metric);
  r.op = op;
  r.value = value;
  r.for_duration = for_duration;
  r.clear = clear;
  r.severity = severity;
  r.text = std::move(text);
  return r;
}

Sample one(const std::string& metric, double value) {
  Sample s;
  s.set(metric, value);
  return s;
}

Sample exec_sample(int code, std::optional<std::string> message = {}) {
  Sample s;
  s.state_code = code;
  s.message = std::move(message);
  return s;
}

// A fixed origin on the monotonic clock; at(n) is n seconds later.
MonotonicTime at(int seconds) {
  return MonotonicTime(std::chrono::hours(1000)) + std::chrono::seconds(seconds);
}

constexpr CheckState kOk = CheckState::kOk;
constexpr CheckState kWarning = CheckState::kWarning;
constexpr CheckState kCritical = CheckState::kCritical;
constexpr CheckState kUnknown = CheckState::kUnknown;

Rule critical_over_95() {
  return make_rule("used_percent", Op::kGt, 95, kCritical, "used_percent > 95");
}

}  // namespace

TEST_CASE("a plain greater-than rule fires when true and stops at the first false sample",
          "[rules]") {
  RuleEvaluator ev("root", {critical_over_95()}, 3);
  Evaluation e = ev.on_sample(one("used_percent", 96.2), at(0));
  CHECK(e.state == kCritical);
  CHECK(e.metric == "used_percent");
  CHECK(e.value == 96.2);
  CHECK(e.rule == "used_percent > 95");
  CHECK(e.message == "root: used_percent is 96.2 (critical: used_percent > 95)");
  CHECK(ev.state() == kCritical);

  e = ev.on_sample(one("used_percent", 95), at(1));
  CHECK(e.state == kOk);
  CHECK(ev.state() == kOk);
}

TEST_CASE("a for 3s rule at a 1s interval fires on the fourth true sample not the third",
          "[rules]") {
  RuleEvaluator ev(
      "load", {make_rule("load1", Op::kGe, 4, kWarning, "load1 >= 4 for 3s", Duration(3000))}, 3);
  CHECK(ev.on_sample(one("load1", 5), at(0)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(1)).state == kOk);
  CHECK(ev.on_sample(one("load1", 4), at(2)).state == kOk);
  Evaluation e = ev.on_sample(one("load1", 6), at(3));
  CHECK(e.state == kWarning);
  CHECK(e.value == 6);
  CHECK(e.rule == "load1 >= 4 for 3s");
  // It keeps firing without a new wait.
  CHECK(ev.on_sample(one("load1", 7), at(4)).state == kWarning);
}

TEST_CASE("a for rule fires at the first sample at least its duration after the run began",
          "[rules]") {
  // Late samples: 0, 2.5 s, 3.5 s. The third is the first at least 3 s after the first.
  RuleEvaluator ev(
      "load", {make_rule("load1", Op::kGt, 1, kWarning, "load1 > 1 for 3s", Duration(3000))}, 3);
  CHECK(ev.on_sample(one("load1", 2), at(0)).state == kOk);
  CHECK(ev.on_sample(one("load1", 2), at(0) + Duration(2500)).state == kOk);
  CHECK(ev.on_sample(one("load1", 2), at(0) + Duration(3500)).state == kWarning);
}

TEST_CASE("a false sample restarts the run of a for rule", "[rules]") {
  RuleEvaluator ev(
      "load", {make_rule("load1", Op::kGt, 4, kWarning, "load1 > 4 for 3s", Duration(3000))}, 3);
  ev.on_sample(one("load1", 5), at(0));
  ev.on_sample(one("load1", 5), at(1));
  ev.on_sample(one("load1", 5), at(2));
  CHECK(ev.on_sample(one("load1", 1), at(3)).state == kOk);
  // The run starts again at 4 and fires at 7, not before.
  CHECK(ev.on_sample(one("load1", 5), at(4)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(5)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(6)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(7)).state == kWarning);
}

TEST_CASE("a failed collection restarts the run of a for rule", "[rules]") {
  RuleEvaluator ev(
      "load", {make_rule("load1", Op::kGt, 4, kWarning, "load1 > 4 for 3s", Duration(3000))}, 3);
  ev.on_sample(one("load1", 5), at(0));
  ev.on_sample(one("load1", 5), at(1));
  ev.on_sample(one("load1", 5), at(2));
  CHECK(ev.on_failure("cannot read /proc/loadavg", at(3)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(4)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(5)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(6)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(7)).state == kWarning);
}

TEST_CASE("a missing metric restarts the run and does not fire", "[rules]") {
  RuleEvaluator ev(
      "nginx",
      {make_rule("rss_bytes", Op::kGt, 100, kWarning, "rss_bytes > 100 for 2s", Duration(2000))},
      3);
  ev.on_sample(one("rss_bytes", 200), at(0));
  ev.on_sample(one("rss_bytes", 200), at(1));
  CHECK(ev.on_sample(one("count", 0), at(2)).state == kOk);
  CHECK(ev.on_sample(one("rss_bytes", 200), at(3)).state == kOk);
  CHECK(ev.on_sample(one("rss_bytes", 200), at(4)).state == kOk);
  CHECK(ev.on_sample(one("rss_bytes", 200), at(5)).state == kWarning);
}

TEST_CASE("a firing rule whose metric goes missing stops with a null value", "[rules]") {
  RuleEvaluator ev("nginx", {make_rule("fds", Op::kGt, 100, kWarning, "fds > 100")}, 3);
  CHECK(ev.on_sample(one("fds", 150), at(0)).state == kWarning);
  Evaluation e = ev.on_sample(one("count", 2), at(1));
  CHECK(e.state == kOk);
  CHECK(e.metric == "fds");
  CHECK(e.rule == "fds > 100");
  CHECK_FALSE(e.value.has_value());
  CHECK(e.message == "nginx: fds is missing (ok: fds > 100 no longer holds)");
}

TEST_CASE("a greater-than rule with clear fires until the value is strictly below clear",
          "[rules]") {
  RuleEvaluator ev("root",
                   {make_rule("used_percent", Op::kGt, 90, kWarning, "used_percent > 90 clear 80",
                              Duration::zero(), 80.0)},
                   3);
  CHECK(ev.on_sample(one("used_percent", 85), at(0)).state == kOk);  // clear alone fires nothing
  CHECK(ev.on_sample(one("used_percent", 91), at(1)).state == kWarning);
  CHECK(ev.on_sample(one("used_percent", 85), at(2)).state == kWarning);
  CHECK(ev.on_sample(one("used_percent", 80), at(3)).state == kWarning);
  CHECK(ev.on_sample(one("used_percent", 79.9), at(4)).state == kOk);
  CHECK(ev.on_sample(one("used_percent", 85), at(5)).state == kOk);
}

TEST_CASE("a less-than rule with clear fires until the value is strictly above clear", "[rules]") {
  RuleEvaluator ev("root",
                   {make_rule("free_bytes", Op::kLe, 1000, kCritical,
                              "free_bytes <= 1000 clear 5000", Duration::zero(), 5000.0)},
                   3);
  CHECK(ev.on_sample(one("free_bytes", 1000), at(0)).state == kCritical);
  CHECK(ev.on_sample(one("free_bytes", 4000), at(1)).state == kCritical);
  CHECK(ev.on_sample(one("free_bytes", 5000), at(2)).state == kCritical);
  Evaluation e = ev.on_sample(one("free_bytes", 5001), at(3));
  CHECK(e.state == kOk);
  CHECK(e.value == 5001);
  CHECK(e.rule == "free_bytes <= 1000 clear 5000");
}

TEST_CASE("the state is the worst firing rule and critical beats warning", "[rules]") {
  RuleEvaluator ev(
      "root",
      {make_rule("used_percent", Op::kGt, 80, kWarning, "used_percent > 80"), critical_over_95()},
      3);
  CHECK(ev.on_sample(one("used_percent", 85), at(0)).state == kWarning);
  Evaluation e = ev.on_sample(one("used_percent", 97), at(1));
  CHECK(e.state == kCritical);
  CHECK(e.rule == "used_percent > 95");
  e = ev.on_sample(one("used_percent", 90), at(2));
  CHECK(e.state == kWarning);
  CHECK(e.rule == "used_percent > 80");
}

TEST_CASE("among firing rules of equal severity the first in file order is reported", "[rules]") {
  RuleEvaluator ev(
      "root",
      {make_rule("inodes_used_percent", Op::kGt, 90, kCritical, "inodes_used_percent > 90"),
       critical_over_95()},
      3);
  Sample s;
  s.set("used_percent", 99);
  s.set("inodes_used_percent", 93);
  Evaluation e = ev.on_sample(s, at(0));
  CHECK(e.state == kCritical);
  CHECK(e.metric == "inodes_used_percent");
  CHECK(e.value == 93);
  CHECK(e.rule == "inodes_used_percent > 90");
}

TEST_CASE("a return to ok reports the rule that stopped firing last with its current value",
          "[rules]") {
  RuleEvaluator ev(
      "root",
      {make_rule("used_percent", Op::kGt, 80, kWarning, "used_percent > 80"),
       make_rule("inodes_used_percent", Op::kGt, 80, kWarning, "inodes_used_percent > 80")},
      3);
  Sample both;
  both.set("used_percent", 90);
  both.set("inodes_used_percent", 90);
  CHECK(ev.on_sample(both, at(0)).rule == "used_percent > 80");
  Sample inodes_only;
  inodes_only.set("used_percent", 42);
  inodes_only.set("inodes_used_percent", 90);
  CHECK(ev.on_sample(inodes_only, at(1)).rule == "inodes_used_percent > 80");
  Sample none;
  none.set("used_percent", 42);
  none.set("inodes_used_percent", 50);
  Evaluation e = ev.on_sample(none, at(2));
  CHECK(e.state == kOk);
  CHECK(e.metric == "inodes_used_percent");
  CHECK(e.value == 50);
  CHECK(e.rule == "inodes_used_percent > 80");
  CHECK(e.message ==
        "root: inodes_used_percent is 50 (ok: inodes_used_percent > 80 no longer holds)");
  // Later ok samples go on naming that rule, with the value of the moment.
  e = ev.on_sample(none, at(3));
  CHECK(e.rule == "inodes_used_percent > 80");
}

TEST_CASE("when several rules stop at once the worst of them is reported", "[rules]") {
  RuleEvaluator ev(
      "root",
      {make_rule("used_percent", Op::kGt, 80, kWarning, "used_percent > 80"), critical_over_95()},
      3);
  ev.on_sample(one("used_percent", 97), at(0));
  Evaluation e = ev.on_sample(one("used_percent", 42), at(1));
  CHECK(e.state == kOk);
  CHECK(e.rule == "used_percent > 95");
  CHECK(e.message == "root: used_percent is 42 (ok: used_percent > 95 no longer holds)");
}

TEST_CASE("an ok state that no rule ever fired reports null metric value and rule", "[rules]") {
  RuleEvaluator ev("root", {critical_over_95()}, 3);
  Evaluation e = ev.on_sample(one("used_percent", 42), at(0));
  CHECK(e.state == kOk);
  CHECK_FALSE(e.metric.has_value());
  CHECK_FALSE(e.value.has_value());
  CHECK_FALSE(e.rule.has_value());
  CHECK(e.message == "root is ok");
}

TEST_CASE("unknown_after 3 keeps the state through two failures and turns unknown on the third",
          "[rules]") {
  RuleEvaluator ev("root", {critical_over_95()}, 3);
  Evaluation good = ev.on_sample(one("used_percent", 97), at(0));
  REQUIRE(good.state == kCritical);

  Evaluation e = ev.on_failure("statvfs timed out", at(1));
  CHECK(e.state == kCritical);
  CHECK(e.message == good.message);
  CHECK(e.rule == good.rule);
  e = ev.on_failure("statvfs timed out", at(2));
  CHECK(e.state == kCritical);
  CHECK(ev.state() == kCritical);

  e = ev.on_failure("statvfs timed out again", at(3));
  CHECK(e.state == kUnknown);
  CHECK(ev.state() == kUnknown);
  CHECK(e.message == "statvfs timed out again");
  CHECK_FALSE(e.metric.has_value());
  CHECK_FALSE(e.value.has_value());
  CHECK_FALSE(e.rule.has_value());
  // Further failures stay unknown and carry the latest error.
  CHECK(ev.on_failure("permission denied", at(4)).message == "permission denied");

  // The next good collection evaluates the rules again.
  e = ev.on_sample(one("used_percent", 50), at(5));
  CHECK(e.state == kOk);
  CHECK(e.rule == "used_percent > 95");
  CHECK(e.value == 50);
  // And the failure counter starts over.
  CHECK(ev.on_failure("x", at(6)).state == kOk);
  CHECK(ev.on_failure("x", at(7)).state == kOk);
  CHECK(ev.on_failure("x", at(8)).state == kUnknown);
}

TEST_CASE("a check has no state until its first successful evaluation", "[rules]") {
  RuleEvaluator ev("root", {critical_over_95()}, 3);
  CHECK_FALSE(ev.state().has_value());
  CHECK_FALSE(ev.on_failure("boom", at(0)).state.has_value());
  CHECK_FALSE(ev.on_failure("boom", at(1)).state.has_value());
  CHECK_FALSE(ev.state().has_value());
  CHECK(ev.on_sample(one("used_percent", 10), at(2)).state == kOk);
  CHECK(ev.state() == kOk);
}

TEST_CASE("a check that only fails gets its first state as unknown", "[rules]") {
  RuleEvaluator ev("root", {critical_over_95()}, 2);
  CHECK_FALSE(ev.on_failure("boom", at(0)).state.has_value());
  Evaluation e = ev.on_failure("boom", at(1));
  CHECK(e.state == kUnknown);
  CHECK(e.message == "boom");
}

TEST_CASE("exec exit codes 0 to 4 map to ok warning critical unknown unknown", "[rules]") {
  const std::vector<std::pair<int, CheckState>> cases = {
      {0, kOk}, {1, kWarning}, {2, kCritical}, {3, kUnknown}, {4, kUnknown}};
  for (const auto& [code, expected] : cases) {
    RuleEvaluator ev("web", {}, 3);
    Evaluation e = ev.on_sample(exec_sample(code, "HTTP says something"), at(0));
    INFO("exit code " << code);
    CHECK(e.state == expected);
    CHECK(e.metric == "status");
    CHECK(e.value == code);
    CHECK_FALSE(e.rule.has_value());
    CHECK(e.message == "HTTP says something");
  }
}

TEST_CASE("an exec exit code 1 with a firing critical rule is critical with the rule's metric",
          "[rules]") {
  RuleEvaluator ev("web", {make_rule("time", Op::kGt, 2, kCritical, "time > 2s")}, 3);
  Sample s = exec_sample(1, "HTTP WARNING: slow");
  s.set("time", 3.5);
  Evaluation e = ev.on_sample(s, at(0));
  CHECK(e.state == kCritical);
  CHECK(e.metric == "time");
  CHECK(e.value == 3.5);
  CHECK(e.rule == "time > 2s");
  CHECK(e.message == "HTTP WARNING: slow");
}

TEST_CASE("an exec exit code beats a rule of equal severity and unknown beats every rule",
          "[rules]") {
  RuleEvaluator ev("web", {make_rule("time", Op::kGt, 2, kCritical, "time > 2s")}, 3);
  Sample s = exec_sample(2);
  s.set("time", 3.5);
  Evaluation e = ev.on_sample(s, at(0));
  CHECK(e.state == kCritical);
  CHECK(e.metric == "status");
  CHECK(e.value == 2);
  CHECK_FALSE(e.rule.has_value());
  CHECK(e.message == "web: status is 2 (critical)");

  Sample u = exec_sample(3, "UNKNOWN: no route");
  u.set("time", 9);
  e = ev.on_sample(u, at(1));
  CHECK(e.state == kUnknown);
  CHECK(e.metric == "status");
  CHECK(e.value == 3);
}

TEST_CASE("an exec check back to exit code 0 reports status 0", "[rules]") {
  RuleEvaluator ev("web", {}, 3);
  CHECK(ev.on_sample(exec_sample(2), at(0)).state == kCritical);
  Evaluation e = ev.on_sample(exec_sample(0), at(1));
  CHECK(e.state == kOk);
  CHECK(e.metric == "status");
  CHECK(e.value == 0);
  CHECK_FALSE(e.rule.has_value());
  CHECK(e.message == "web: status is 0 (ok)");
}

TEST_CASE("once mode never fires a for rule but fires plain rules", "[rules]") {
  std::vector<Rule> rules = {
      make_rule("load1", Op::kGt, 1, kCritical, "load1 > 1 for 0s"),
      make_rule("load1", Op::kGt, 1, kCritical, "load1 > 1 for 1s", Duration(1000)),
  };
  RuleEvaluator with_for("load", {rules[1]}, 3, /*once_mode=*/true);
  CHECK(with_for.on_sample(one("load1", 5), at(0)).state == kOk);
  CHECK(with_for.on_sample(one("load1", 5), at(10)).state == kOk);

  RuleEvaluator plain("load", {make_rule("load1", Op::kGt, 1, kWarning, "load1 > 1")}, 3, true);
  CHECK(plain.on_sample(one("load1", 5), at(0)).state == kWarning);

  RuleEvaluator both("load", rules, 3, true);
  Evaluation e = both.on_sample(one("load1", 5), at(0));
  CHECK(e.state == kCritical);
  CHECK(e.rule == "load1 > 1 for 0s");
}

TEST_CASE("equality rules compare plain numbers already converted from units", "[rules]") {
  RuleEvaluator ev("root",
                   {make_rule("readonly", Op::kEq, 1, kCritical, "readonly == 1"),
                    make_rule("free_bytes", Op::kLt, 1073741824, kWarning, "free_bytes < 1GiB"),
                    make_rule("count", Op::kNe, 1, kWarning, "count != 1")},
                   3);
  Sample s;
  s.set("readonly", 0);
  s.set("free_bytes", 1073741824);
  s.set("count", 1);
  CHECK(ev.on_sample(s, at(0)).state == kOk);

  Sample low;
  low.set("readonly", 0);
  low.set("free_bytes", 1073741823);
  low.set("count", 1);
  Evaluation e = ev.on_sample(low, at(1));
  CHECK(e.state == kWarning);
  CHECK(e.message == "root: free_bytes is 1073741823 (warning: free_bytes < 1GiB)");

  Sample ro;
  ro.set("readonly", 1);
  ro.set("free_bytes", 5e9);
  ro.set("count", 2);
  e = ev.on_sample(ro, at(2));
  CHECK(e.state == kCritical);
  CHECK(e.rule == "readonly == 1");
}

TEST_CASE("values are formatted without trailing zeros", "[rules]") {
  CHECK(RuleEvaluator::format_value(96.2) == "96.2");
  CHECK(RuleEvaluator::format_value(42) == "42");
  CHECK(RuleEvaluator::format_value(1073741824) == "1073741824");
  CHECK(RuleEvaluator::format_value(0.25) == "0.25");
  CHECK(RuleEvaluator::format_value(-0.0) == "0");
  CHECK(RuleEvaluator::format_value(95.0000001) != "95");
}

TEST_CASE("a restored state is kept until the first evaluation and rules start afresh", "[rules]") {
  RuleEvaluator ev(
      "load", {make_rule("load1", Op::kGt, 4, kWarning, "load1 > 4 for 2s", Duration(2000))}, 3);
  ev.on_sample(one("load1", 5), at(0));
  ev.on_sample(one("load1", 5), at(1));
  REQUIRE(ev.on_sample(one("load1", 5), at(2)).state == kWarning);

  ev.restore_state(kCritical);
  CHECK(ev.state() == kCritical);
  CHECK(ev.on_failure("boom", at(3)).state == kCritical);
  // The firing flag is off: the run starts over and the rule waits its 2 s again.
  CHECK(ev.on_sample(one("load1", 5), at(4)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(5)).state == kOk);
  CHECK(ev.on_sample(one("load1", 5), at(6)).state == kWarning);
}

TEST_CASE("a restored empty state means no state until the first evaluation", "[rules]") {
  RuleEvaluator ev("root", {critical_over_95()}, 3);
  ev.on_sample(one("used_percent", 97), at(0));
  ev.restore_state(std::nullopt);
  CHECK_FALSE(ev.state().has_value());
  CHECK_FALSE(ev.on_failure("boom", at(1)).state.has_value());
}

TEST_CASE("a firing rule survives failures below unknown_after without waiting again", "[rules]") {
  RuleEvaluator ev(
      "load", {make_rule("load1", Op::kGt, 4, kWarning, "load1 > 4 for 2s", Duration(2000))}, 3);
  ev.on_sample(one("load1", 5), at(0));
  ev.on_sample(one("load1", 5), at(1));
  REQUIRE(ev.on_sample(one("load1", 5), at(2)).state == kWarning);
  ev.on_failure("boom", at(3));
  CHECK(ev.on_sample(one("load1", 5), at(4)).state == kWarning);
}

}  // namespace vigil
