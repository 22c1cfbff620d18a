#include "agent/records/event_record.h"

#include "agent/records/record_json.h"
#include "agent/util/strings.h"

namespace vigil {

Record make_event_record(const EventFields& f, const std::string& id, SystemTime time) {
  nlohmann::ordered_json j = record_header(RecordKind::kEvent, id, time, f.host, f.tags);
  j["check"] = f.check;
  j["plugin"] = f.plugin;
  j["state"] = state_name(f.state);
  j["previous_state"] =
      f.previous_state ? nlohmann::ordered_json(state_name(*f.previous_state)) : nullptr;
  j["metric"] = f.evaluation.metric ? nlohmann::ordered_json(*f.evaluation.metric) : nullptr;
  j["value"] = json_number(f.evaluation.value);
  j["rule"] = f.evaluation.rule ? nlohmann::ordered_json(*f.evaluation.rule) : nullptr;
  j["message"] = f.evaluation.message;
  j["runbook"] = f.runbook.empty() ? nullptr : nlohmann::ordered_json(f.runbook);
  nlohmann::ordered_json samples = nlohmann::ordered_json::array();
  for (const std::string& s : f.samples) {
    samples.push_back(sanitize_utf8(s, 512));
  }
  j["samples"] = std::move(samples);
  Record r;
  r.kind = RecordKind::kEvent;
  r.id = id;
  r.json = dump_json(j);
  r.severity = f.state;
  return r;
}

Record make_heartbeat_record(const HeartbeatFields& f, const std::string& id, SystemTime time) {
  nlohmann::ordered_json j = record_header(RecordKind::kHeartbeat, id, time, f.host, f.tags);
  j["uptime_seconds"] = f.uptime_seconds;
  j["version"] = VIGIL_VERSION;
  j["spool_records"] = f.spool_records;
  j["dropped"] = f.loss.dropped;
  j["corrupt_frames"] = f.loss.corrupt_frames;
  j["dead_lettered"] = f.loss.dead_lettered;
  j["log_bytes_skipped"] = f.loss.log_bytes_skipped;
  Record r;
  r.kind = RecordKind::kHeartbeat;
  r.id = id;
  r.json = dump_json(j);
  return r;
}

}  // namespace vigil
