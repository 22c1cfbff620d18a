#pragma once

#include <string>
#include <vector>

#include "agent/incidents/incident_manager.h"
#include "agent/loop/check_set.h"
#include "agent/records/record.h"
#include "agent/rules/evaluator.h"
#include "agent/util/time.h"

namespace vigil {

// Turns one evaluation of a check into records: an `event` when the check's
// state changed (quoting its example lines since the previous event), then
// whatever the incident manager makes of it (open, update, escalate, resolve,
// problems). Updates the slot's state and since.
class CheckEvents {
 public:
  CheckEvents(const Clock& clock, IncidentManager& incidents, std::string host)
      : clock_(clock), incidents_(incidents), host_(std::move(host)) {}

  struct Outcome {
    std::vector<Record> records;
    // Nothing to announce, but an open incident's occurrences moved on: the
    // state must be saved all the same.
    bool dirty = false;
  };
  Outcome on_evaluation(CheckSlot& slot, const Evaluation& eval, double occurrences);
  void set_host(std::string host) { host_ = std::move(host); }

 private:
  const Clock& clock_;
  IncidentManager& incidents_;
  std::string host_;
};

}  // namespace vigil
