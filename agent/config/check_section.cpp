#include "agent/config/loader.h"
#include "agent/config/section_keys.h"
#include "agent/config/sections.h"
#include "agent/config/tags.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

const KeySpec* plugin_key(const Plugin& plugin, std::string_view name) {
  for (const KeySpec& k : plugin.keys) {
    if (k.name == name) {
      return &k;
    }
  }
  return nullptr;
}

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

// A collection may take as long as the interval unless the plugin's table
// says otherwise; exec's commands get 10s (docs/CONFIGURATION.md), whatever its table says.
Duration default_timeout(const Plugin& plugin, Duration interval) {
  if (const KeySpec* k = plugin_key(plugin, "timeout"); k != nullptr && !k->default_text.empty()) {
    if (Result<Duration> d = parse_duration(k->default_text); d.ok() && d.value().count() > 0) {
      return d.value();
    }
  }
  if (plugin.name == "exec") {
    return Duration(10000);
  }
  return interval;
}

// The severity of a plugin's default rule: the value of its severity key, else
// that key's default, else warning.
CheckState default_rule_severity(const Plugin& plugin, const Section& s) {
  std::string text;
  if (const Entry* e = s.find(plugin.severity_key); e != nullptr) {
    text = std::string(trim(e->value));
  } else if (const KeySpec* k = plugin_key(plugin, plugin.severity_key); k != nullptr) {
    text = std::string(k->default_text);
  }
  std::optional<CheckState> st = parse_state(text);
  return st && (*st == CheckState::kWarning || *st == CheckState::kCritical) ? *st
                                                                             : CheckState::kWarning;
}

}  // namespace

CheckConfig build_check(const ParsedSection& parsed, const Plugin& plugin, const AgentConfig& agent,
                        const IncidentPolicy& incidents, ConfigErrors* errors) {
  const Section& s = parsed.section;
  check_section_keys(parsed, {plugin.keys, check_keys(), incident_keys()}, errors);

  CheckConfig check;
  check.name = s.name.empty() ? std::string(plugin.name) : s.name;
  check.plugin = std::string(plugin.name);
  check.plugin_def = &plugin;
  check.interval = duration_value(s, "interval").value_or(agent.interval);
  check.timeout = duration_value(s, "timeout").value_or(default_timeout(plugin, check.interval));
  if (const Entry* e = s.find("unknown_after")) {
    if (std::optional<int> n = int_value(s, "unknown_after")) {
      if (*n < 1) {
        add_error(errors, e->file, e->line, "unknown_after: must be at least 1");
      } else {
        check.unknown_after = *n;
      }
    }
  }
  check.runbook = string_value(s, "runbook").value_or("");
  check.tags = agent.tags;
  if (const Entry* e = s.find("tags")) {
    Result<Tags> tags = parse_tags(e->value);
    if (tags.ok()) {
      check.tags = merge_tags(agent.tags, tags.value());
    } else {
      add_error(errors, e->file, e->line, "tags: " + tags.error());
    }
  }
  check.enabled = bool_value(s, "enabled").value_or(true);

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
      rule_keys_broken = true;  // reported by check_section_keys
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

  check.incidents = incidents;
  apply_incident_keys(s, &check.incidents, errors);
  check.section = s;
  return check;
}

}  // namespace vigil
