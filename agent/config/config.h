#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/plugin/key_table.h"
#include "agent/plugin/section.h"
#include "agent/rules/rule.h"
#include "agent/util/time.h"

namespace vigil {

struct Plugin;

struct ConfigError {
  std::string file;
  int line = 0;
  std::string message;
  std::string to_string() const { return file + ":" + std::to_string(line) + ": " + message; }
};

using Tags = std::vector<std::pair<std::string, std::string>>;  // in file order

// The member initializers of the structures below repeat the defaults of their
// key tables (agent/config/*_section.cpp) for code that builds them without
// the loader; a unit test keeps the two equal.

// [incidents], and the same keys in a check's section (each override optional).
struct IncidentPolicy {
  std::vector<Duration> escalate_after;
  Duration renotify{0};
  Duration resolve_after{0};
  int flap_changes = 5;
  Duration flap_window{std::chrono::minutes(10)};
  int problem_count = 3;
  Duration problem_window{std::chrono::hours(24)};
  // Incidents of other checks opening within this long of a group's first
  // incident join its group; 0 = this check's incidents never correlate.
  Duration correlate_window{std::chrono::minutes(2)};

  bool operator==(const IncidentPolicy&) const = default;
};

struct AgentConfig {
  std::string hostname;  // system hostname when not set
  Duration interval{10000};
  std::string state_dir = "/var/lib/vigil";
  std::string include;  // glob, resolved against the main file's folder
  Tags tags;
  std::string log_level = "info";
  std::string status_listen;  // "unix:PATH", "HOST:PORT" or "off"; filled in
  Duration heartbeat{60000};
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  Duration shutdown_timeout{5000};

  bool operator==(const AgentConfig&) const = default;
};

struct CheckConfig {
  std::string name;
  std::string plugin;
  const Plugin* plugin_def = nullptr;
  Duration interval{10000};
  Duration timeout{10000};
  int unknown_after = 3;
  std::string runbook;
  Tags tags;  // agent tags merged with the check's (the check's win)
  bool enabled = true;
  std::vector<Rule> rules;  // in file order, warnings and criticals mixed
  // Checks this one depends on: in a correlation group, one of them outranks
  // this check as the suspected cause.
  std::vector<std::string> depends_on;
  IncidentPolicy incidents;
  Section section;  // the raw section, for the plugin's create()
  // The plugin's options, filled from `section` with the plugin's key table.
  PluginOptions options;
};

enum class OutputFormat { kVigil, kPagerDuty, kAlertmanager };

struct OutputConfig {
  std::string name;
  std::string url;
  OutputFormat format = OutputFormat::kVigil;
  std::string token;  // from token or token_file; never logged
  std::string routing_key;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file, cert_file, key_file;
  bool tls_verify = true;
  std::string proxy;
  Duration timeout{10000};
  size_t batch_max = 500;
  uint64_t batch_bytes = 1u << 20;
  Duration flush_interval{1000};
  bool gzip = false;
  Duration retry_max{300000};
  uint64_t spool_max = 256ull << 20;
  bool drop_newest = false;
  // Incidents and problems in a lane of their own, which outlives events and
  // heartbeats at the cap (docs/SPOOL.md, "Lanes").
  bool spool_priority = true;
  CheckState min_severity = CheckState::kWarning;
  int min_level = 0;
  bool send_event = true, send_incident = true, send_problem = true, send_heartbeat = true;
  // `silenced = skip`: records of a silenced incident are not sent (docs/SILENCES.md);
  // the default depends on the format (send for vigil, skip for pagerduty and alertmanager).
  bool skip_silenced = false;
  std::string file;
  int line = 0;

  bool operator==(const OutputConfig&) const = default;
};

// [silence NAME]: a maintenance window (docs/SILENCES.md). The loader checked
// every value; agent/silences/silence_window.h makes it usable.
struct SilenceConfig {
  std::string name;
  std::vector<std::string> match;  // matchers as written: check=~disk_.*
  std::string comment;
  std::string starts, ends;  // RFC 3339; both empty for a weekly window
  std::string weekly;        // `Sun 02:00 2h`; empty for an absolute window
  std::string file;
  int line = 0;

  bool operator==(const SilenceConfig&) const = default;
};

struct Config {
  std::string path;  // the main file
  AgentConfig agent;
  IncidentPolicy incidents;
  std::vector<CheckConfig> checks;  // configuration order, disabled ones included
  std::vector<OutputConfig> outputs;
  std::vector<SilenceConfig> silences;  // configuration order
};

}  // namespace vigil
