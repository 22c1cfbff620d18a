#include "agent/config/sections.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

// Each step must come later than the one before: level 2 after level 1.
Status set_escalate_after(IncidentPolicy& policy, const Entry& e) {
  std::vector<Duration> steps;
  for (const std::string& item : split_list(e.value)) {
    Result<Duration> d = parse_duration(item);
    if (!d.ok()) {
      return make_error("escalate_after: " + d.error());
    }
    if (d.value().count() <= 0 || (!steps.empty() && d.value() <= steps.back())) {
      return make_error("escalate_after: durations must be greater than 0 and strictly increasing");
    }
    steps.push_back(d.value());
  }
  policy.escalate_after = std::move(steps);
  return {};
}

}  // namespace

const KeyTable<IncidentPolicy>& incident_key_table() {
  static const KeyTable<IncidentPolicy> kTable = {
      key<IncidentPolicy>("escalate_after", ValueType::kList, set_escalate_after)
          .help("strictly increasing durations (`15m, 1h`): escalation level 1, 2 … while open"),
      key("renotify", &IncidentPolicy::renotify)
          .default_value("0")
          .help("re-send an open incident this often; `0` = off"),
      key("resolve_after", &IncidentPolicy::resolve_after)
          .default_value("0")
          .help("how long a check stays `ok` before its incident resolves"),
      key("flap_changes", &IncidentPolicy::flap_changes)
          .default_value("5")
          .at_least("1")
          .help("state changes within `flap_window` that mark an incident flapping"),
      key("flap_window", &IncidentPolicy::flap_window)
          .default_value("10m")
          .greater_than("0")
          .help("window of `flap_changes`"),
      key("problem_count", &IncidentPolicy::problem_count)
          .default_value("3")
          .at_least("1")
          .help("incidents of one key within `problem_window` that open a problem"),
      key("problem_window", &IncidentPolicy::problem_window)
          .default_value("24h")
          .greater_than("0")
          .help("window of `problem_count`"),
      key("correlate_window", &IncidentPolicy::correlate_window)
          .default_value("2m")
          .help("an incident opening less than this after the first incident of a group that "
                "has an open incident joins the group; `0` = off"),
  };
  return kTable;
}

}  // namespace vigil
