#include "agent/status/metrics_text.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace vigil {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) {
      return true;
    }
  }
  return false;
}

StatusSnapshot snapshot_with_fresh_check() {
  StatusSnapshot s;
  s.version = "1.2.3";
  CheckStatus c;
  c.name = "root";
  c.plugin = "disk";
  c.metric_names = {"used_percent", "free_bytes"};
  s.checks.push_back(c);
  CheckStatus lg;
  lg.name = "app";
  lg.plugin = "log";
  lg.losses = {{"log_bytes_skipped", 0}};  // what the log plugin says it reports
  s.checks.push_back(lg);
  OutputStatus o;
  o.name = "main";
  s.outputs.push_back(o);
  return s;
}

TEST_CASE("every series of a configured check and output exists from the start", "[status]") {
  std::string t = metrics_text(snapshot_with_fresh_check());
  CHECK(has_line(t, R"(vigil_metric{check="root",plugin="disk",metric="used_percent"} 0)"));
  CHECK(has_line(t, R"(vigil_metric{check="root",plugin="disk",metric="free_bytes"} 0)"));
  for (const char* st : {"ok", "warning", "critical", "unknown"}) {
    CHECK(has_line(
        t, std::string(R"(vigil_check_state{check="root",plugin="disk",state=")") + st + "\"} 0"));
  }
  for (const char* kind : {"event", "heartbeat", "incident", "problem", "dead_letter"}) {
    CHECK(has_line(t, std::string(R"(vigil_output_records_dropped_total{output="main",kind=")") +
                          kind + "\"} 0"));
  }
  for (const char* f : {"vigil_output_records_sent_total", "vigil_output_requests_failed_total",
                        "vigil_output_records_dead_lettered_total", "vigil_output_spool_records",
                        "vigil_output_spool_bytes", "vigil_spool_corrupt_frames_total"}) {
    CHECK(has_line(t, std::string(f) + R"({output="main"} 0)"));
  }
  CHECK(has_line(t, R"(vigil_log_skipped_bytes_total{check="app"} 0)"));
  CHECK(has_line(t, "vigil_incidents_open 0"));
  CHECK(has_line(t, "vigil_problems_open 0"));
  CHECK(has_line(t, R"(vigil_build_info{version="1.2.3"} 1)"));
}

TEST_CASE("a reading replaces the 0 and extra metrics follow the known ones", "[status]") {
  StatusSnapshot s = snapshot_with_fresh_check();
  s.checks[0].state = CheckState::kCritical;
  s.checks[0].metrics = {{"free_bytes", 1024}, {"used_percent", 97.25}, {"extra", 3}};
  std::string t = metrics_text(s);
  CHECK(has_line(t, R"(vigil_metric{check="root",plugin="disk",metric="used_percent"} 97.25)"));
  CHECK(has_line(t, R"(vigil_metric{check="root",plugin="disk",metric="free_bytes"} 1024)"));
  CHECK(has_line(t, R"(vigil_metric{check="root",plugin="disk",metric="extra"} 3)"));
  CHECK(t.find("metric=\"used_percent\"} 0\n") == std::string::npos);
  CHECK(has_line(t, R"(vigil_check_state{check="root",plugin="disk",state="critical"} 1)"));
  CHECK(has_line(t, R"(vigil_check_state{check="root",plugin="disk",state="ok"} 0)"));
}

TEST_CASE("every family has HELP and TYPE before its samples", "[status]") {
  std::string t = metrics_text(snapshot_with_fresh_check());
  for (const char* f :
       {"vigil_metric", "vigil_check_state", "vigil_incidents_open", "vigil_problems_open",
        "vigil_output_records_sent_total", "vigil_output_requests_failed_total",
        "vigil_output_records_dropped_total", "vigil_output_records_dead_lettered_total",
        "vigil_output_spool_records", "vigil_output_spool_bytes",
        "vigil_spool_corrupt_frames_total", "vigil_log_skipped_bytes_total", "vigil_uptime_seconds",
        "vigil_build_info"}) {
    size_t help = t.find(std::string("# HELP ") + f + " ");
    size_t type = t.find(std::string("# TYPE ") + f + " ");
    size_t sample = t.find(std::string("\n") + f + "{");
    if (sample == std::string::npos) {
      sample = t.find(std::string("\n") + f + " ");
    }
    INFO(f);
    REQUIRE(help != std::string::npos);
    REQUIRE(type != std::string::npos);
    CHECK(help < type);
    if (sample != std::string::npos) {
      CHECK(type < sample);
    }
  }
  CHECK(t.find("# TYPE vigil_output_records_sent_total counter\n") != std::string::npos);
  CHECK(t.find("# TYPE vigil_output_spool_bytes gauge\n") != std::string::npos);
}

TEST_CASE("label values are escaped and odd numbers written as Prometheus does", "[status]") {
  CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(escape_label_value("plain") == "plain");
  CHECK(format_sample_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_sample_value(0.1) == "0.1");
  CHECK(format_sample_value(1e300) == "1e+300");
  CHECK(format_sample_value(42) == "42");
  CHECK(std::strtod(format_sample_value(1.0 / 3).c_str(), nullptr) == 1.0 / 3);
  StatusSnapshot s;
  s.version = "v\"1\n";
  CHECK(has_line(metrics_text(s), R"(vigil_build_info{version="v\"1\n"} 1)"));
}

}  // namespace
}  // namespace vigil
