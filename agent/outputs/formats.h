#pragma once

#include <string>
#include <vector>

#include "agent/spool/spool.h"
#include "agent/util/time.h"

namespace vigil {

struct AgentInfo {
  std::string host;
  std::string version;
  std::string instance;  // a UUID made at each start
};

// `vigil`: {"agent": {host, version, instance}, "records": [...]} (docs/RECORDS.md).
std::string vigil_body(const AgentInfo& agent, const std::vector<SpoolEntry>& batch);

// `pagerduty`: one Events API v2 object for one incident record.
std::string pagerduty_body(const std::string& routing_key, const std::string& incident_json);

// `alertmanager`: one alert per incident, the latest record of each incident
// winning; `endsAt` is computed now (open: now + 5 m, resolved: resolved_at).
std::string alertmanager_body(const std::vector<std::string>& incident_jsons, SystemTime now);

// Label names must match [a-zA-Z_][a-zA-Z0-9_]*.
std::string prometheus_label_name(const std::string& key);

}  // namespace vigil
