#pragma once

// Drives an IncidentManager through the agent's own CheckEvents: every evaluation
// of a check with its state, an event for every change, and a ManualClock so hours
// pass in microseconds.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/incidents/incident_manager.h"
#include "agent/loop/check_events.h"
#include "agent/util/time.h"

namespace vigil::test {

inline constexpr Duration kMinute{60000};
inline constexpr Duration kHour{3600000};

inline const Plugin kLinesPlugin{
    .name = "log", .keys = {}, .metrics = {}, .may_block = false, .counts_occurrences = true};
inline const Plugin kRunsPlugin{.name = "exec", .keys = {}, .metrics = {}, .may_block = false};

struct Harness {
  ManualClock clock;
  std::string host = "web1";
  IncidentManager manager{clock, host};
  CheckEvents events{clock, manager, host};
  IncidentPolicy policy;                                       // for checks without their own
  std::map<std::string, IncidentPolicy> policies;              // per-check overrides
  std::map<std::string, CheckSlot> slots;                      // the agent's memory of each check
  std::map<std::string, std::vector<std::string>> depends_on;  // per-check depends_on
  std::string last_event_id;                                   // of the latest evaluation

  // The incident manager's records for this evaluation (the event, if any, is
  // left out; its id is in last_event_id).
  std::vector<Record> eval(const std::string& check, CheckState s, double occurrences = 0,
                           bool counts_occurrences = false) {
    CheckSlot& slot = slots[check];
    slot.config.name = check;
    slot.config.plugin_def = counts_occurrences ? &kLinesPlugin : &kRunsPlugin;
    slot.config.plugin = std::string(slot.config.plugin_def->name);
    slot.config.runbook = "https://runbooks.example/" + check;
    slot.config.tags = {{"team", "ops"}, {"env", "prod"}};
    auto p = policies.find(check);
    slot.config.incidents = p != policies.end() ? p->second : policy;
    auto d = depends_on.find(check);
    slot.config.depends_on = d != depends_on.end() ? d->second : std::vector<std::string>{};
    Evaluation e;
    e.state = s;
    e.message = "check " + check + " is " + std::string(state_name(s));
    std::vector<Record> out;
    last_event_id.clear();
    for (Record& r : events.on_evaluation(slot, e, occurrences).records) {
      if (r.kind == RecordKind::kEvent) {
        last_event_id = r.id;
      } else {
        out.push_back(std::move(r));
      }
    }
    return out;
  }

  std::vector<Record> after(Duration d) {
    clock.advance(d);
    return manager.tick();
  }
};

inline nlohmann::json parse(const Record& r) { return nlohmann::json::parse(r.json); }

inline std::vector<nlohmann::json> parse_all(const std::vector<Record>& rs) {
  std::vector<nlohmann::json> out;
  for (const Record& r : rs) {
    out.push_back(parse(r));
  }
  return out;
}

inline std::vector<Record> only(const std::vector<Record>& rs, RecordKind kind) {
  std::vector<Record> out;
  for (const Record& r : rs) {
    if (r.kind == kind) {
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace vigil::test
