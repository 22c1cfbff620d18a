#include "agent/loop/check_events.h"

#include "agent/records/event_record.h"
#include "agent/util/uuid.h"

namespace vigil {

CheckEvents::Outcome CheckEvents::on_evaluation(CheckSlot& slot, const Evaluation& eval,
                                                double occurrences) {
  Outcome out;
  if (!eval.state) {
    return out;  // no state yet: failures below unknown_after
  }
  std::optional<CheckState> previous = slot.state;
  bool changed = !previous || *previous != *eval.state;
  std::string event_id;
  SystemTime now = clock_.wall();
  if (changed) {
    event_id = uuid_v7(now);
    EventFields f;
    f.host = host_;
    f.tags = slot.config.tags;
    f.check = slot.config.name;
    f.plugin = slot.config.plugin;
    f.state = *eval.state;
    f.previous_state = previous;
    f.evaluation = eval;
    f.runbook = slot.config.runbook;
    f.samples = std::move(slot.examples);
    slot.examples.clear();
    out.records.push_back(make_event_record(f, event_id, now));
    slot.state = eval.state;
    slot.since = now;
  }
  CheckChange change;
  change.check = slot.config.name;
  change.plugin = slot.config.plugin;
  change.state = *eval.state;
  change.changed = changed;
  change.first = !previous;
  change.event_id = event_id;
  change.summary = eval.message;
  change.runbook = slot.config.runbook;
  change.tags = slot.config.tags;
  change.counts_occurrences =
      slot.config.plugin_def != nullptr && slot.config.plugin_def->counts_occurrences;
  change.occurrences = occurrences;
  change.policy = slot.config.incidents;
  change.depends_on = slot.config.depends_on;
  for (Record& r : incidents_.on_evaluation(change)) {
    out.records.push_back(std::move(r));
  }
  out.dirty = out.records.empty() && (*eval.state != CheckState::kOk || occurrences > 0);
  return out;
}

}  // namespace vigil
