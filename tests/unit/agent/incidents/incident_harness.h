#pragma once

// Drives an IncidentManager the way the agent's loop does: every evaluation of a
// check with its state, `changed` and `first` worked out from the previous state,
// an event id for every change, and a ManualClock so hours pass in microseconds.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/incidents/incident_manager.h"
#include "agent/util/time.h"
#include "agent/util/uuid.h"

namespace vigil::test {

inline constexpr Duration kMinute{60000};
inline constexpr Duration kHour{3600000};

struct Harness {
  ManualClock clock;
  std::string host = "web1";
  IncidentManager manager{clock, host};
  IncidentPolicy policy;                           // for checks without their own
  std::map<std::string, IncidentPolicy> policies;  // per-check overrides
  std::map<std::string, CheckState> states;        // the evaluator's memory
  std::string last_event_id;                       // of the latest evaluation

  std::vector<Record> eval(const std::string& check, CheckState s, double matched_lines = 0,
                           bool is_log = false) {
    CheckChange c;
    c.check = check;
    c.plugin = is_log ? "log" : "exec";
    c.state = s;
    auto it = states.find(check);
    c.first = it == states.end();
    c.changed = c.first || it->second != s;
    c.event_id = c.changed ? uuid_v7(clock.wall()) : "";
    c.summary = "check " + check + " is " + std::string(state_name(s));
    c.runbook = "https://runbooks.example/" + check;
    c.tags = {{"team", "ops"}, {"env", "prod"}};
    c.is_log = is_log;
    c.matched_lines = matched_lines;
    auto p = policies.find(check);
    c.policy = p != policies.end() ? p->second : policy;
    states[check] = s;
    last_event_id = c.event_id;
    return manager.on_evaluation(c);
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
