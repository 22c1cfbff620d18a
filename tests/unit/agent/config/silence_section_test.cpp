#include <catch2/catch.hpp>

#include "agent/config/loader.h"
#include "agent/silences/silence_window.h"
#include "tests/support/temp_dir.h"

// [silence NAME] windows and the outputs' `silenced` key (docs/CONFIGURATION.md).
namespace vigil {
namespace {

LoadResult load(const test::TempDir& dir, const std::string& text) {
  LoadOptions o;
  o.validate_plugins = false;
  o.http_unavailable = [] { return std::string(); };
  return load_config(dir.write("vigil.ini", text), o);
}

std::vector<std::string> messages(const LoadResult& r) {
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) {
    out.push_back(e.to_string());
  }
  return out;
}

TEST_CASE("silence windows are read with their matchers and times", "[config][silences]") {
  test::TempDir dir;
  LoadResult r = load(dir,
                      "[silence backups]\n"
                      "match = check=~disk_.*\n"
                      "match = tag.env = prod\n"
                      "comment = nightly backups fill the disk\n"
                      "weekly = Sun 02:00 2h\n"
                      "[silence move]\n"
                      "match = plugin=process\n"
                      "starts = 2026-11-24T02:00:00Z\n"
                      "ends = 2026-11-24T04:00:00+01:00\n");
  REQUIRE(messages(r).empty());
  const std::vector<SilenceConfig>& s = r.config->silences;
  REQUIRE(s.size() == 2);
  CHECK(s[0].name == "backups");
  CHECK(s[0].match == std::vector<std::string>{"check=~disk_.*", "tag.env=prod"});
  CHECK(s[0].comment == "nightly backups fill the disk");
  CHECK(s[0].weekly == "Sun 02:00 2h");
  CHECK(s[0].line == 1);
  CHECK(s[1].comment == "maintenance window move");
  Result<SilenceWindow> w = make_window(s[1]);
  REQUIRE(w.ok());
  CHECK(format_rfc3339(w->ends) == "2026-11-24T03:00:00.000Z");
  CHECK(w->at(w->starts).id == "config:move");
}

TEST_CASE("silence windows are checked, each error at its line", "[config][silences]") {
  test::TempDir dir;
  LoadResult r = load(dir,
                      "[silence]\n"                      // 1
                      "match = check=x\n"                // 2
                      "weekly = Sun 02:00 2h\n"          // 3
                      "[silence all]\n"                  // 4
                      "match = check=~.*\n"              // 5
                      "weekly = Sun 02:00 2h\n"          // 6
                      "[silence bad]\n"                  // 7
                      "match = host=web1\n"              // 8
                      "weekly = Sunday 2am\n"            // 9
                      "[silence both]\n"                 // 10
                      "match = check=x\n"                // 11
                      "weekly = Sun 02:00 2h\n"          // 12
                      "starts = 2026-11-24T02:00:00Z\n"  // 13
                      "[silence none]\n"                 // 14
                      "match = check=x\n"                // 15
                      "[silence half]\n"                 // 16
                      "match = check=x\n"                // 17
                      "starts = 2026-11-24T02:00:00Z\n"  // 18
                      "[silence backwards]\n"            // 19
                      "match = check=x\n"                // 20
                      "starts = 2026-11-24T02:00:00Z\n"  // 21
                      "ends = 2026-11-24T02:00:00Z\n"    // 22
                      "[silence nomatch]\n"              // 23
                      "starts = tomorrow\n"              // 24
                      "ends = 2026-11-24T02:00:00Z\n"    // 25
                      "[silence all]\n"                  // 26
                      "match = check=y\n"                // 27
                      "weekly = Mon 02:00 8d\n");        // 28
  std::string f = dir.file("vigil.ini");
  CHECK(messages(r) ==
        std::vector<std::string>{
            f + ":1: [silence] needs a name: [silence NAME]",
            f + ":5: match: these matchers match every incident (each also matches an empty "
                "value, as check=~.* or != does): add one that names what to silence, such as "
                "check=NAME",
            f + ":8: match: matcher 'host=web1': the name must be check, plugin, severity or "
                "tag.KEY",
            f + ":9: weekly: expected three words (use DAY HH:MM DURATION in UTC, such as Sun "
                "02:00 2h)",
            f + ":13: starts: a window is weekly or has starts and ends, not both",
            f + ":14: [silence none] needs weekly, or starts and ends (RFC 3339 times)",
            f + ":16: [silence half] needs both starts and ends (or weekly instead)",
            f + ":22: ends: the window must end after it starts",
            f + ":23: missing required key 'match' in [silence nomatch]",
            f + ":24: starts: 'tomorrow' is not an RFC 3339 time (2026-11-24T02:00:00Z)",
            f + ":26: duplicate silence name 'all' (first at " + f + ":4)",
            f + ":28: weekly: the duration must be greater than 0 and at most 7d",
        });
}

TEST_CASE("outputs skip silenced incidents by default only for pagerduty and alertmanager",
          "[config][silences]") {
  test::TempDir dir;
  LoadResult r = load(dir,
                      "[output file]\nurl = file:/tmp/x\n"
                      "[output pd]\nurl = https://pd/v2/enqueue\nformat = pagerduty\n"
                      "routing_key = k\n"
                      "[output am]\nurl = http://am/api/v2/alerts\nformat = alertmanager\n"
                      "[output vigil_skip]\nurl = https://v/ingest\nsilenced = skip\n"
                      "[output pd_send]\nurl = https://pd/v2/enqueue\nformat = pagerduty\n"
                      "routing_key = k\nsilenced = send\n");
  REQUIRE(messages(r).empty());
  std::vector<bool> skip;
  for (const OutputConfig& o : r.config->outputs) {
    skip.push_back(o.skip_silenced);
  }
  CHECK(skip == std::vector<bool>{false, true, true, true, false});
  LoadResult bad = load(dir, "[output]\nurl = stdout\nsilenced = drop\n");
  REQUIRE(bad.errors.size() == 1);
  CHECK_THAT(bad.errors[0].message, Catch::Contains("silenced") && Catch::Contains("send, skip"));
}

}  // namespace
}  // namespace vigil
