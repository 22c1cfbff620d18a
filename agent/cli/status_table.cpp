#include "agent/cli/status_table.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

namespace vigil::cli {
namespace {

using Row = std::vector<std::string>;

std::string text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return "-";
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  return it->dump();
}

// "HIGH/LOW" bytes of an output's spool lanes, or "-" without lanes.
std::string lane_bytes(const nlohmann::json& o) {
  auto it = o.find("spool_lane_bytes");
  if (it == o.end() || !it->is_object()) {
    return "-";
  }
  return text(*it, "high") + "/" + text(*it, "low");
}

std::string number(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void table(std::string* out, const std::vector<Row>& rows) {
  std::vector<size_t> width;
  for (const Row& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const Row& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) {
        line += std::string(width[i] - r[i].size() + 2, ' ');
      }
    }
    *out += line + "\n";
  }
}

}  // namespace

std::string render_status_table(const nlohmann::json& s) {
  std::string out;
  std::vector<Row> checks{{"NAME", "PLUGIN", "STATE", "SINCE", "VALUES"}};
  if (s.contains("checks") && s["checks"].is_array()) {
    for (const auto& c : s["checks"]) {
      std::string values;
      if (c.contains("metrics") && c["metrics"].is_object()) {
        for (auto it = c["metrics"].begin(); it != c["metrics"].end(); ++it) {
          if (!values.empty()) {
            values += ' ';
          }
          values +=
              it.key() + "=" + (it.value().is_number() ? number(it.value().get<double>()) : "null");
        }
      }
      if (c.contains("error") && c["error"].is_string()) {
        values +=
            (values.empty() ? "" : " ") + std::string("error: ") + c["error"].get<std::string>();
      }
      checks.push_back(
          {text(c, "name"), text(c, "plugin"), text(c, "state"), text(c, "since"), values});
    }
  }
  table(&out, checks);
  out += "\nOPEN INCIDENTS\n";
  std::vector<Row> inc{{"KEY", "SEVERITY", "OPENED", "OCCURRENCES", "LEVEL", "SUMMARY"}};
  if (s.contains("incidents") && s["incidents"].is_array()) {
    for (const auto& i : s["incidents"]) {
      inc.push_back({text(i, "key"), text(i, "severity"), text(i, "opened_at"),
                     text(i, "occurrences"), text(i, "escalation_level"), text(i, "summary")});
    }
  }
  table(&out, inc);
  out += "\nOPEN PROBLEMS\n";
  std::vector<Row> prob{
      {"KEY", "CAUSE", "SUSPECTED", "INCIDENTS", "FIRST SEEN", "LAST SEEN", "SUMMARY"}};
  if (s.contains("problems") && s["problems"].is_array()) {
    for (const auto& p : s["problems"]) {
      prob.push_back({text(p, "key"), text(p, "cause"), text(p, "suspected_check"),
                      text(p, "incident_count"), text(p, "first_seen"), text(p, "last_seen"),
                      text(p, "summary")});
    }
  }
  table(&out, prob);
  out += "\nOUTPUTS\n";
  std::vector<Row> outs{{"NAME", "URL", "SPOOLED", "LANE BYTES H/L", "SENT", "FAILED", "DROPPED",
                         "DEAD", "LAST ERROR"}};
  if (s.contains("outputs") && s["outputs"].is_array()) {
    for (const auto& o : s["outputs"]) {
      outs.push_back({text(o, "name"), text(o, "url"), text(o, "spool_records"), lane_bytes(o),
                      text(o, "sent"), text(o, "failed"), text(o, "dropped"),
                      text(o, "dead_lettered"), text(o, "last_error")});
    }
  }
  table(&out, outs);
  return out;
}

}  // namespace vigil::cli
