#pragma once

#include <string>
#include <vector>

namespace vigil {

// Alertmanager holds state, not history (docs/RECORDS.md): whatever a request
// carries becomes what the receiver holds. Given a batch of incident records from
// the spool (oldest first) and the current state of every open incident the output
// takes, returns the incident records a request should carry now:
//
// - for each incident of the batch that is no longer open, its resolve when the
//   batch holds one; else nothing: the resolve is further on in the spool, and an
//   older firing state sent meanwhile would revive an alert that may have ended;
// - then the current state of every open incident, whether the batch names it or
//   not, so that one request after an outage refreshes every alert.
//
// Records are matched by `incident_id` (by `key` when a record has none); those that
// are not JSON objects are left out.
std::vector<std::string> alertmanager_state(const std::vector<std::string>& batch,
                                            const std::vector<std::string>& open);

}  // namespace vigil
