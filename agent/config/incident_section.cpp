#include "agent/config/section_keys.h"
#include "agent/config/sections.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

void positive_duration(const Section& s, std::string_view key, Duration* out,
                       ConfigErrors* errors) {
  const Entry* e = s.find(key);
  std::optional<Duration> d = duration_value(s, key);
  if (e == nullptr || !d) {
    return;
  }
  if (d->count() <= 0) {
    add_error(errors, e->file, e->line, std::string(key) + ": must be greater than 0");
    return;
  }
  *out = *d;
}

void positive_int(const Section& s, std::string_view key, int* out, ConfigErrors* errors) {
  const Entry* e = s.find(key);
  std::optional<int> v = int_value(s, key);
  if (e == nullptr || !v) {
    return;
  }
  if (*v < 1) {
    add_error(errors, e->file, e->line, std::string(key) + ": must be at least 1");
    return;
  }
  *out = *v;
}

}  // namespace

void apply_incident_keys(const Section& s, IncidentPolicy* policy, ConfigErrors* errors) {
  if (const Entry* e = s.find("escalate_after")) {
    std::vector<Duration> steps;
    bool ok = true;
    for (const std::string& item : split_list(e->value)) {
      Result<Duration> d = parse_duration(item);
      if (!d.ok()) {
        add_error(errors, e->file, e->line, "escalate_after: " + d.error());
        ok = false;
        break;
      }
      if (d.value().count() <= 0 || (!steps.empty() && d.value() <= steps.back())) {
        add_error(errors, e->file, e->line,
                  "escalate_after: durations must be greater than 0 and strictly increasing");
        ok = false;
        break;
      }
      steps.push_back(d.value());
    }
    if (ok) {
      policy->escalate_after = std::move(steps);
    }
  }
  policy->renotify = duration_value(s, "renotify").value_or(policy->renotify);
  policy->resolve_after = duration_value(s, "resolve_after").value_or(policy->resolve_after);
  positive_int(s, "flap_changes", &policy->flap_changes, errors);
  positive_duration(s, "flap_window", &policy->flap_window, errors);
  positive_int(s, "problem_count", &policy->problem_count, errors);
  positive_duration(s, "problem_window", &policy->problem_window, errors);
}

}  // namespace vigil
