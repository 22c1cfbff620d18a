#include "agent/rules/rule.h"

#include <cctype>
#include <vector>

#include "agent/util/strings.h"

namespace vigil {
namespace {

bool is_metric_char(char c) {
  return isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
}

// Operators longest first, so that `>=` is not read as `>` followed by `=`.
struct OpName {
  std::string_view text;
  Op op;
};
constexpr OpName kOps[] = {{">=", Op::kGe}, {"<=", Op::kLe}, {"==", Op::kEq},
                           {"!=", Op::kNe}, {">", Op::kGt},  {"<", Op::kLt}};

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && isspace(static_cast<unsigned char>(s[i])) != 0) {
      ++i;
    }
    size_t start = i;
    while (i < s.size() && isspace(static_cast<unsigned char>(s[i])) == 0) {
      ++i;
    }
    if (i > start) {
      out.push_back(s.substr(start, i - start));
    }
  }
  return out;
}

Error rule_error(std::string_view text, const std::string& why) {
  return make_error("invalid rule '" + std::string(text) + "': " + why);
}

std::string_view op_text(Op op) {
  for (const OpName& o : kOps) {
    if (o.op == op) {
      return o.text;
    }
  }
  return "?";
}

// The metric and the operator may touch (`load1>4`), so they are scanned by
// character; returns what follows them.
Result<std::string_view> parse_metric_and_op(std::string_view text, Rule* rule) {
  size_t i = 0;
  while (i < text.size() && is_metric_char(text[i])) {
    ++i;
  }
  if (i == 0) {
    return rule_error(text, "it must start with a metric name");
  }
  rule->metric = std::string(text.substr(0, i));
  std::string_view rest = trim(text.substr(i));
  for (const OpName& o : kOps) {
    if (starts_with(rest, o.text)) {
      rule->op = o.op;
      return rest.substr(o.text.size());
    }
  }
  std::vector<std::string_view> words = split_words(rest);
  std::string got = words.empty() ? "nothing" : "'" + std::string(words[0]) + "'";
  return rule_error(
      text, "expected an operator (> >= < <= == !=) after '" + rule->metric + "', got " + got);
}

// `clear VALUE`, the hysteresis of a rule with > >= < <=; `word` is the value,
// empty when the rule ends after `clear`.
Status parse_clear(std::string_view text, std::string_view word, Rule* rule) {
  if (rule->op == Op::kEq || rule->op == Op::kNe) {
    return rule_error(text, "'clear' is only valid with > >= < <=");
  }
  if (word.empty()) {
    return rule_error(text, "missing value after 'clear'");
  }
  std::optional<double> clear = parse_number_with_unit(word);
  if (!clear) {
    return rule_error(text, "invalid clear value '" + std::string(word) + "'");
  }
  // A clear value on the wrong side of the threshold would stop the rule at
  // once and fire it again at the next evaluation: hysteresis backwards.
  bool upward = rule->op == Op::kGt || rule->op == Op::kGe;
  if (upward && *clear > rule->value) {
    return rule_error(text, "the clear value of a '" + std::string(op_text(rule->op)) +
                                "' rule must not be above its threshold");
  }
  if (!upward && *clear < rule->value) {
    return rule_error(text, "the clear value of a '" + std::string(op_text(rule->op)) +
                                "' rule must not be below its threshold");
  }
  rule->clear = *clear;
  rule->text += " clear " + std::string(word);
  return {};
}

}  // namespace

Result<Rule> parse_rule(std::string_view input) {
  std::string_view text = trim(input);
  if (text.empty()) {
    return make_error("empty rule (use METRIC OP VALUE [for DURATION] [clear VALUE])");
  }
  Rule rule;
  auto rest = parse_metric_and_op(text, &rule);
  if (!rest.ok()) {
    return rest.error_info();
  }
  std::vector<std::string_view> words = split_words(*rest);
  if (words.empty()) {
    return rule_error(text, "missing value after '" + std::string(op_text(rule.op)) + "'");
  }
  std::optional<double> value = parse_number_with_unit(words[0]);
  if (!value) {
    return rule_error(text, "invalid value '" + std::string(words[0]) +
                                "' (a number, optionally with a size or duration unit)");
  }
  rule.value = *value;
  rule.text = rule.metric + " " + std::string(op_text(rule.op)) + " " + std::string(words[0]);

  size_t w = 1;
  if (w < words.size() && words[w] == "for") {
    if (w + 1 >= words.size()) {
      return rule_error(text, "missing duration after 'for'");
    }
    Result<Duration> d = parse_duration(words[w + 1]);
    if (!d.ok()) {
      return rule_error(text, d.error());
    }
    rule.for_duration = d.value();
    rule.text += " for " + std::string(words[w + 1]);
    w += 2;
  }
  if (w < words.size() && words[w] == "clear") {
    std::string_view value_word = w + 1 < words.size() ? words[w + 1] : std::string_view{};
    if (Status st = parse_clear(text, value_word, &rule); !st.ok()) {
      return st.error_info();
    }
    w += 2;
  }
  if (w < words.size()) {
    return rule_error(text, "unexpected '" + std::string(words[w]) +
                                "' (use METRIC OP VALUE [for DURATION] [clear VALUE])");
  }
  return rule;
}

}  // namespace vigil
