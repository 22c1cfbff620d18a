#include "agent/outputs/formats.h"

#include <cctype>
#include <map>

#include "agent/records/record_json.h"

namespace vigil {

using nlohmann::ordered_json;

std::string vigil_body(const AgentInfo& agent, const std::vector<SpoolEntry>& batch) {
  ordered_json a;
  a["host"] = agent.host;
  a["version"] = agent.version;
  a["instance"] = agent.instance;
  // Records are stored serialised: the body is assembled, never re-parsed.
  std::string body = "{\"agent\":" + dump_json(a) + ",\"records\":[";
  size_t total = body.size() + 2;
  for (const SpoolEntry& e : batch) {
    total += e.payload.size() + 1;
  }
  body.reserve(total);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) {
      body += ',';
    }
    body += batch[i].payload;
  }
  body += "]}";
  return body;
}

namespace {

std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return "";
  }
  return it->get<std::string>();
}

std::string cut_chars(const std::string& s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) {
        return s.substr(0, i);
      }
      ++chars;
    }
  }
  return s;
}

std::string pagerduty_severity(const std::string& s) {
  if (s == "critical") {
    return "critical";
  }
  if (s == "warning") {
    return "warning";
  }
  return "error";
}

}  // namespace

std::string pagerduty_body(const std::string& routing_key, const std::string& incident_json) {
  nlohmann::json rec = nlohmann::json::parse(incident_json, nullptr, false);
  if (rec.is_discarded() || !rec.is_object()) {
    rec = nlohmann::json::object();
  }
  ordered_json j;
  j["routing_key"] = routing_key;
  std::string action = string_field(rec, "action");
  j["event_action"] = action == "resolve" ? "resolve" : action == "ack" ? "acknowledge" : "trigger";
  j["dedup_key"] = string_field(rec, "key");
  ordered_json payload;
  payload["summary"] = cut_chars(string_field(rec, "summary"), 1024);
  payload["source"] = string_field(rec, "host");
  payload["severity"] = pagerduty_severity(string_field(rec, "severity"));
  payload["component"] = string_field(rec, "check");
  payload["custom_details"] = rec;
  j["payload"] = std::move(payload);
  std::string runbook = string_field(rec, "runbook");
  ordered_json links = ordered_json::array();
  if (runbook.rfind("http://", 0) == 0 || runbook.rfind("https://", 0) == 0) {
    links.push_back({{"href", runbook}});
  }
  j["links"] = std::move(links);
  return dump_json(j);
}

std::string prometheus_label_name(const std::string& key) {
  std::string out;
  for (char c : key) {
    out += (isalnum(static_cast<unsigned char>(c)) != 0 || c == '_') ? c : '_';
  }
  if (out.empty() || isdigit(static_cast<unsigned char>(out[0])) != 0) {
    out.insert(out.begin(), '_');
  }
  return out;
}

std::string alertmanager_body(const std::vector<std::string>& incident_jsons, SystemTime now) {
  // Coalesce: the latest record of each incident is the state to send. By incident,
  // not by key: the resolve of one incident and the opening of the next of the same
  // check are two alerts (their vigil_problem differs), and both must go.
  std::map<std::string, nlohmann::json> latest;
  std::vector<std::string> order;
  for (const std::string& s : incident_jsons) {
    nlohmann::json rec = nlohmann::json::parse(s, nullptr, false);
    if (rec.is_discarded() || !rec.is_object()) {
      continue;
    }
    std::string key = string_field(rec, "incident_id");
    if (key.empty()) {
      key = string_field(rec, "key");
    }
    if (latest.find(key) == latest.end()) {
      order.push_back(key);
    }
    latest[key] = std::move(rec);
  }
  ordered_json alerts = ordered_json::array();
  for (const std::string& key : order) {
    const nlohmann::json& rec = latest[key];
    ordered_json labels;
    labels["alertname"] = string_field(rec, "check");
    labels["instance"] = string_field(rec, "host");
    labels["severity"] = string_field(rec, "severity");
    // An incident outside a correlation problem is a problem of its own, with
    // itself as the cause; the first member of a group keeps its labels when the
    // group becomes a problem, since the problem takes that incident's id.
    std::string problem = string_field(rec, "problem_id");
    labels["vigil_problem"] = problem.empty() ? string_field(rec, "incident_id") : problem;
    std::string role = string_field(rec, "problem_role");
    labels["vigil_role"] = role.empty() ? "cause" : role;
    if (auto t = rec.find("tags"); t != rec.end() && t->is_object()) {
      for (auto it = t->begin(); it != t->end(); ++it) {
        std::string name = prometheus_label_name(it.key());
        if (!labels.contains(name) && it.value().is_string()) {
          labels[name] = it.value().get<std::string>();
        }
      }
    }
    ordered_json annotations;
    annotations["summary"] = string_field(rec, "summary");
    annotations["runbook_url"] = string_field(rec, "runbook");
    ordered_json alert;
    alert["labels"] = std::move(labels);
    alert["annotations"] = std::move(annotations);
    alert["startsAt"] = string_field(rec, "opened_at");
    std::string resolved_at = string_field(rec, "resolved_at");
    alert["endsAt"] = string_field(rec, "status") == "resolved" && !resolved_at.empty()
                          ? resolved_at
                          : format_rfc3339(now + std::chrono::minutes(5));
    alerts.push_back(std::move(alert));
  }
  return dump_json(alerts);
}

}  // namespace vigil
