#include "agent/status/status_json.h"

#include "agent/records/record_json.h"

namespace vigil {

using nlohmann::ordered_json;

namespace {

ordered_json time_or_null(const std::optional<SystemTime>& t) {
  return t ? ordered_json(format_rfc3339(*t)) : ordered_json(nullptr);
}

ordered_json parse_record(const std::string& s) {
  ordered_json j = ordered_json::parse(s, nullptr, false);
  return j.is_discarded() ? ordered_json(nullptr) : j;
}

}  // namespace

std::string status_json(const StatusSnapshot& s) {
  ordered_json j;
  j["agent"] = {{"host", s.host},
                {"version", s.version},
                {"instance", s.instance},
                {"uptime_seconds", s.uptime_seconds}};
  ordered_json checks = ordered_json::array();
  for (const CheckStatus& c : s.checks) {
    ordered_json metrics = ordered_json::object();
    for (const auto& [k, v] : c.metrics) {
      metrics[k] = json_number(v);
    }
    checks.push_back({{"name", c.name},
                      {"plugin", c.plugin},
                      {"state", c.state ? ordered_json(state_name(*c.state)) : nullptr},
                      {"since", time_or_null(c.since)},
                      {"metrics", std::move(metrics)},
                      {"error", c.error ? ordered_json(*c.error) : nullptr},
                      {"last_run", time_or_null(c.last_run)}});
  }
  j["checks"] = std::move(checks);
  ordered_json incidents = ordered_json::array();
  for (const std::string& r : s.incidents) {
    incidents.push_back(parse_record(r));
  }
  j["incidents"] = std::move(incidents);
  ordered_json problems = ordered_json::array();
  for (const std::string& r : s.problems) {
    problems.push_back(parse_record(r));
  }
  j["problems"] = std::move(problems);
  ordered_json outputs = ordered_json::array();
  for (const OutputStatus& o : s.outputs) {
    ordered_json by_kind = ordered_json::object();
    for (size_t k = 0; k < kRecordKinds; ++k) {
      by_kind[kRecordKindNames[k]] = o.dropped_by_kind[k];
    }
    ordered_json lanes = nullptr;
    if (o.priority) {
      lanes = {{"high", o.high_bytes}, {"low", o.low_bytes}};
    }
    outputs.push_back(
        {{"name", o.name},
         {"url", o.url},
         {"format", o.format},
         {"spool_records", o.spool_records},
         {"spool_bytes", o.spool_bytes},
         {"spool_lane_bytes", std::move(lanes)},
         {"memory_records", o.memory_records},
         {"sent", o.sent},
         {"failed", o.failed},
         {"dropped", o.dropped},
         {"dropped_by_kind", std::move(by_kind)},
         {"dead_lettered", o.dead_lettered},
         {"last_error", o.last_error.empty() ? nullptr : ordered_json(o.last_error)},
         {"storage_error", o.storage_error.empty() ? nullptr : ordered_json(o.storage_error)},
         {"last_success", time_or_null(o.last_success)}});
  }
  j["outputs"] = std::move(outputs);
  j["loss"] = {{"dropped", s.loss.dropped},
               {"corrupt_frames", s.loss.corrupt_frames},
               {"dead_lettered", s.loss.dead_lettered},
               {"log_bytes_skipped", s.loss.log_bytes_skipped}};
  return dump_json(j);
}

}  // namespace vigil
