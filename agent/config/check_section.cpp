#include "agent/config/loader.h"
#include "agent/config/section_keys.h"
#include "agent/config/sections.h"
#include "agent/config/tags.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

bool has_metric(const Plugin& plugin, std::string_view metric) {
  if (plugin.metrics.empty()) {
    return true;  // exec: any perfdata label may become a metric
  }
  for (std::string_view m : plugin.metrics) {
    if (m == metric) {
      return true;
    }
  }
  return false;
}

std::string metric_list(const Plugin& plugin) {
  std::string out;
  for (std::string_view m : plugin.metrics) {
    out += (out.empty() ? "" : ", ") + std::string(m);
  }
  return out;
}

// A collection may take as long as the interval, unless the plugin sets a
// default of its own (Plugin::default_timeout).
Duration default_timeout(const Plugin& plugin, Duration interval) {
  if (!plugin.default_timeout.empty()) {
    if (Result<Duration> d = parse_duration(plugin.default_timeout);
        d.ok() && d.value().count() > 0) {
      return d.value();
    }
  }
  return interval;
}

// The severity of a plugin's default rule: the value of its severity key, else
// that key's default, else warning.
CheckState default_rule_severity(const Plugin& plugin, const Section& s) {
  std::string text;
  if (const Entry* e = s.find(plugin.severity_key); e != nullptr) {
    text = std::string(trim(e->value));
  } else if (const KeySpec* k =
                 plugin.keys != nullptr ? plugin.keys->find(plugin.severity_key) : nullptr) {
    text = std::string(k->default_text);
  }
  std::optional<CheckState> st = parse_state(text);
  return st && (*st == CheckState::kWarning || *st == CheckState::kCritical) ? *st
                                                                             : CheckState::kWarning;
}

Status check_rule(CheckConfig& check, const Entry& e) {
  (void)check;  // build_check() adds the rules, once it knows the plugin's metrics
  Result<Rule> rule = parse_rule(e.value);
  if (!rule.ok()) {
    return make_error(e.key + ": " + rule.error());
  }
  return {};
}

// Over the [agent] tags, which build_check() puts there first.
Status set_tags(CheckConfig& check, const Entry& e) {
  Result<Tags> tags = parse_tags(e.value);
  if (!tags.ok()) {
    return make_error("tags: " + tags.error());
  }
  check.tags = merge_tags(check.tags, tags.value());
  return {};
}

// Names of other checks; the loader checks that each one exists.
Status set_depends_on(CheckConfig& check, const Entry& e) {
  std::vector<std::string> names = split_list(e.value);
  if (names.empty()) {
    return make_error("depends_on: expected at least one check name");
  }
  check.depends_on = std::move(names);
  return {};
}

}  // namespace

const KeyTable<CheckConfig>& check_key_table() {
  static const KeyTable<CheckConfig> kTable = {
      key("interval", &CheckConfig::interval)
          .default_text("[agent] interval")
          .greater_than("0")
          .help("how often the check runs: once at start (or when a reload adds or changes "
                "it), then on the agent's beat, at least half an interval later; checks of one "
                "interval run together, so the agent wakes once for all of them"),
      key<CheckConfig>("warning", ValueType::kRule, check_rule)
          .repeatable()
          .help("`METRIC OP VALUE [for DURATION] [clear VALUE]`; any firing rule sets `warning`"),
      key<CheckConfig>("critical", ValueType::kRule, check_rule)
          .repeatable()
          .help("as `warning`; any firing rule sets `critical`"),
      key("timeout", &CheckConfig::timeout)
          .default_text("the interval (exec, http, tcp: 10s)")
          .greater_than("0")
          .help("how long one collection may take before it counts as failed"),
      key("unknown_after", &CheckConfig::unknown_after)
          .default_value("3")
          .at_least("1")
          .help("failed collections in a row that make the check `unknown`"),
      key("runbook", &CheckConfig::runbook).help("URL or text copied into events and incidents"),
      key<CheckConfig>("tags", ValueType::kList, set_tags)
          .help("`key=value,key=value` for this check's records; they override `[agent]` tags"),
      key("enabled", &CheckConfig::enabled).default_value("true").help("run this check"),
      key<CheckConfig>("depends_on", ValueType::kList, set_depends_on)
          .help("checks this one depends on: within a correlation group an incident of one of "
                "them is the suspected cause before this check's"),
  };
  return kTable;
}

CheckConfig build_check(const ParsedSection& parsed, const Plugin& plugin, const AgentConfig& agent,
                        const IncidentPolicy& incidents, ConfigErrors* errors) {
  const Section& s = parsed.section;
  const KeyTable<CheckConfig>& table = check_key_table();
  CheckConfig check;
  (void)table.apply_defaults(&check);
  check.name = s.name.empty() ? std::string(plugin.name) : s.name;
  check.plugin = std::string(plugin.name);
  check.plugin_def = &plugin;
  check.interval = agent.interval;
  check.tags = agent.tags;
  check.incidents = incidents;
  // The plugin's keys first: a plugin may not redefine a key every check has.
  std::vector<KeyTarget> targets;
  if (plugin.keys != nullptr) {
    check.options = plugin.keys->make();
    targets.push_back(KeyTarget{plugin.keys->keys(), check.options.data()});
  }
  targets.push_back(table.target(&check));
  targets.push_back(incident_key_table().target(&check.incidents));
  fill_section(parsed, targets, errors);
  if (s.find("timeout") == nullptr) {
    check.timeout = default_timeout(plugin, check.interval);
  }

  bool rule_keys_broken = false;
  for (const Entry& e : s.entries) {
    CheckState severity = CheckState::kWarning;
    if (e.key == "critical") {
      severity = CheckState::kCritical;
    } else if (e.key != "warning") {
      continue;
    }
    Result<Rule> rule = parse_rule(e.value);
    if (!rule.ok()) {
      rule_keys_broken = true;  // reported by fill_section
      continue;
    }
    if (!has_metric(plugin, rule->metric)) {
      add_error(errors, e.file, e.line,
                e.key + ": plugin " + std::string(plugin.name) + " has no metric '" + rule->metric +
                    "' (it has " + metric_list(plugin) + ")");
      rule_keys_broken = true;
      continue;
    }
    rule->severity = severity;
    check.rules.push_back(std::move(rule.value()));
  }
  rule_keys_broken = rule_keys_broken || parsed.broken_keys.count("warning") > 0 ||
                     parsed.broken_keys.count("critical") > 0;
  if (check.rules.empty() && !rule_keys_broken && !plugin.default_rule.empty()) {
    Result<Rule> rule = parse_rule(plugin.default_rule);
    if (rule.ok()) {
      rule->severity = default_rule_severity(plugin, s);
      check.rules.push_back(std::move(rule.value()));
    }
  }

  check.section = s;
  return check;
}

}  // namespace vigil
