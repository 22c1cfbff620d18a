#include "agent/cli/status_table.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "agent/cli/text_table.h"

namespace vigil::cli {
namespace {

// "HIGH/LOW" bytes of an output's spool lanes, or "-" without lanes.
std::string lane_bytes(const nlohmann::json& o) {
  auto it = o.find("spool_lane_bytes");
  if (it == o.end() || !it->is_object()) {
    return "-";
  }
  return cell_text(*it, "high") + "/" + cell_text(*it, "low");
}

// What muffles an open incident: its silences, its ack; `-` for nothing.
std::string muted(const nlohmann::json& i) {
  std::string out;
  if (i.value("silenced", false)) {
    out = "silenced";
  }
  auto by = i.find("acknowledged_by");
  if (by != i.end() && by->is_string()) {
    out += (out.empty() ? "" : ", ") + std::string("acked by ") + by->get<std::string>();
  }
  return out.empty() ? "-" : out;
}

std::string number(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
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
      checks.push_back({cell_text(c, "name"), cell_text(c, "plugin"), cell_text(c, "state"),
                        cell_text(c, "since"), values});
    }
  }
  render_table(&out, checks);
  out += "\nOPEN INCIDENTS\n";
  std::vector<Row> inc{{"KEY", "SEVERITY", "OPENED", "OCCURRENCES", "LEVEL", "MUTED", "SUMMARY"}};
  if (s.contains("incidents") && s["incidents"].is_array()) {
    for (const auto& i : s["incidents"]) {
      inc.push_back({cell_text(i, "key"), cell_text(i, "severity"), cell_text(i, "opened_at"),
                     cell_text(i, "occurrences"), cell_text(i, "escalation_level"), muted(i),
                     cell_text(i, "summary")});
    }
  }
  render_table(&out, inc);
  out += "\nOPEN PROBLEMS\n";
  std::vector<Row> prob{
      {"KEY", "CAUSE", "SUSPECTED", "INCIDENTS", "FIRST SEEN", "LAST SEEN", "SUMMARY"}};
  if (s.contains("problems") && s["problems"].is_array()) {
    for (const auto& p : s["problems"]) {
      prob.push_back({cell_text(p, "key"), cell_text(p, "cause"), cell_text(p, "suspected_check"),
                      cell_text(p, "incident_count"), cell_text(p, "first_seen"),
                      cell_text(p, "last_seen"), cell_text(p, "summary")});
    }
  }
  render_table(&out, prob);
  out += "\nOUTPUTS\n";
  std::vector<Row> outs{{"NAME", "URL", "SPOOLED", "LANE BYTES H/L", "SENT", "FAILED", "DROPPED",
                         "DEAD", "LAST ERROR"}};
  if (s.contains("outputs") && s["outputs"].is_array()) {
    for (const auto& o : s["outputs"]) {
      outs.push_back({cell_text(o, "name"), cell_text(o, "url"), cell_text(o, "spool_records"),
                      lane_bytes(o), cell_text(o, "sent"), cell_text(o, "failed"),
                      cell_text(o, "dropped"), cell_text(o, "dead_lettered"),
                      cell_text(o, "last_error")});
    }
  }
  render_table(&out, outs);
  return out;
}

}  // namespace vigil::cli
