#include "agent/status/metrics_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace vigil {

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_sample_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[40];
  snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the shortest form that reads back exactly.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[40];
    snprintf(shorter, sizeof shorter, "%.*g", precision, v);
    if (strtod(shorter, nullptr) == v) {
      return shorter;
    }
  }
  return buf;
}

namespace {

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const char* name, std::initializer_list<std::pair<const char*, std::string>> labels,
              double value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += escape_label_value(v);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += format_sample_value(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// The checks' readings and states.
void write_checks(Writer& w, const StatusSnapshot& s) {
  w.family("vigil_metric", "gauge", "The latest reading of a check's metric.");
  for (const CheckStatus& c : s.checks) {
    auto value_of = [&c](const std::string& name) -> std::optional<double> {
      for (const auto& [k, v] : c.metrics) {
        if (k == name) {
          return v;
        }
      }
      return std::nullopt;
    };
    // The plugin's metrics first, 0 until read (a series exists from the start),
    // then the ones only a reading names (exec perfdata).
    for (const std::string& k : c.metric_names) {
      w.sample("vigil_metric", {{"check", c.name}, {"plugin", c.plugin}, {"metric", k}},
               value_of(k).value_or(0));
    }
    for (const auto& [k, v] : c.metrics) {
      if (std::find(c.metric_names.begin(), c.metric_names.end(), k) == c.metric_names.end()) {
        w.sample("vigil_metric", {{"check", c.name}, {"plugin", c.plugin}, {"metric", k}}, v);
      }
    }
  }
  w.family("vigil_check_state", "gauge", "1 for the check's current state, 0 for the others.");
  static const CheckState kStates[] = {CheckState::kOk, CheckState::kWarning, CheckState::kCritical,
                                       CheckState::kUnknown};
  for (const CheckStatus& c : s.checks) {
    for (CheckState st : kStates) {
      w.sample("vigil_check_state",
               {{"check", c.name}, {"plugin", c.plugin}, {"state", std::string(state_name(st))}},
               c.state && *c.state == st ? 1 : 0);
    }
  }
}

// Records dropped, by output and record kind; kind "dead_letter" counts dead letters
// deleted to stay under the cap, whose kinds are not kept. sum by (output) is the
// output's `dropped`.
void write_dropped(Writer& w, const StatusSnapshot& s) {
  w.family("vigil_output_records_dropped_total", "counter",
           "Records dropped (spool full, memory full, dead letters over the cap), by kind.");
  for (const OutputStatus& o : s.outputs) {
    uint64_t by_kind = 0;
    for (size_t k = 0; k < kRecordKinds; ++k) {
      by_kind += o.dropped_by_kind[k];
      w.sample("vigil_output_records_dropped_total",
               {{"output", o.name}, {"kind", kRecordKindNames[k]}},
               static_cast<double>(o.dropped_by_kind[k]));
    }
    w.sample("vigil_output_records_dropped_total", {{"output", o.name}, {"kind", "dead_letter"}},
             static_cast<double>(o.dropped - std::min(o.dropped, by_kind)));
  }
}

// Each output's counters and spool.
void write_outputs(Writer& w, const StatusSnapshot& s) {
  struct OutputFamily {
    const char* name;
    const char* type;
    const char* help;
    uint64_t OutputStatus::*field;
  };
  static const OutputFamily kOutputFamilies[] = {
      {"vigil_output_records_sent_total", "counter", "Records the endpoint acknowledged.",
       &OutputStatus::sent},
      {"vigil_output_requests_failed_total", "counter", "Requests that failed.",
       &OutputStatus::failed},
      {"vigil_output_records_dead_lettered_total", "counter",
       "Records the endpoint refused, kept in dead letters.", &OutputStatus::dead_lettered},
      {"vigil_output_spool_records", "gauge", "Records waiting in the spool.",
       &OutputStatus::spool_records},
      {"vigil_output_spool_bytes", "gauge", "Bytes of the spool on disk.",
       &OutputStatus::spool_bytes},
      {"vigil_output_memory_records", "gauge",
       "Records the disk had no room for, held in memory until the spool takes them.",
       &OutputStatus::memory_records},
  };
  for (const OutputFamily& f : kOutputFamilies) {
    w.family(f.name, f.type, f.help);
    for (const OutputStatus& o : s.outputs) {
      w.sample(f.name, {{"output", o.name}}, static_cast<double>(o.*f.field));
    }
  }
  write_dropped(w, s);
  w.family("vigil_spool_corrupt_frames_total", "counter",
           "Records lost to spool corruption (an estimate that errs high).");
  for (const OutputStatus& o : s.outputs) {
    w.sample("vigil_spool_corrupt_frames_total", {{"output", o.name}},
             static_cast<double>(o.corrupt_frames));
  }
}

}  // namespace

std::string metrics_text(const StatusSnapshot& s) {
  Writer w;
  write_checks(w, s);
  w.family("vigil_incidents_open", "gauge", "Open incidents.");
  w.sample("vigil_incidents_open", {}, static_cast<double>(s.incidents.size()));
  w.family("vigil_problems_open", "gauge", "Open problems.");
  w.sample("vigil_problems_open", {}, static_cast<double>(s.problems.size()));
  write_outputs(w, s);
  w.family("vigil_log_skipped_bytes_total", "counter",
           "Log bytes skipped (over-long lines, data gone before it was read); for a "
           "journal check, entries lost unread.");
  for (const CheckStatus& c : s.checks) {
    for (const auto& [counter, total] : c.losses) {
      if (counter == "log_bytes_skipped") {
        w.sample("vigil_log_skipped_bytes_total", {{"check", c.name}}, static_cast<double>(total));
      }
    }
  }
  w.family("vigil_uptime_seconds", "gauge", "Seconds since the agent started.");
  w.sample("vigil_uptime_seconds", {}, s.uptime_seconds);
  w.family("vigil_build_info", "gauge", "The agent's version.");
  w.sample("vigil_build_info", {{"version", s.version}}, 1);
  return w.take();
}

}  // namespace vigil
