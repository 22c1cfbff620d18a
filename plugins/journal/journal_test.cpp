#include "plugins/journal/journal.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "plugins/journal/journal_collector.h"
#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

Section section(const test::KeyLines& keys) {
  return test::make_section("journal", keys, "checks.ini", 7);
}

Result<std::unique_ptr<Collector>> make(const Section& s) {
  return kJournalPlugin.create(PluginConfig{s, "nginx", "/proc", "/sys"});
}

std::vector<Error> check(const Section& s) {
  return kJournalPlugin.check(PluginConfig{s, "nginx", "/proc", "/sys"});
}

TEST_CASE("journal plugin declares its metrics, losses and default rule", "[journal]") {
  CHECK(kJournalPlugin.name == "journal");
  CHECK(kJournalPlugin.default_rule == "matches > 0");
  CHECK(kJournalPlugin.severity_key == "severity");
  CHECK(kJournalPlugin.counts_occurrences);
  CHECK_FALSE(kJournalPlugin.may_block);
  REQUIRE(kJournalPlugin.metrics.size() == 2);
  CHECK(kJournalPlugin.metrics[0] == "matches");
  CHECK(kJournalPlugin.metrics[1] == "lines");
  REQUIRE(kJournalPlugin.losses.size() == 1);
  CHECK(kJournalPlugin.losses[0] == "log_bytes_skipped");
}

TEST_CASE("journal plugin's key table holds JournalOptions' defaults", "[journal]") {
  PluginOptions made = kJournalPlugin.keys->make();
  const JournalOptions* options = made.get<JournalOptions>();
  REQUIRE(options != nullptr);
  CHECK(*options == JournalOptions{});
}

TEST_CASE("journal plugin fills its options from repeated matches and greps", "[journal]") {
  Section s = section({{"match", " _SYSTEMD_UNIT=nginx.service "},
                       {"match", "_SYSTEMD_UNIT=php.service"},
                       {"grep", "upstream timed out"},
                       {"grep", "(?i)segfault"},
                       {"priority", "err"},
                       {"path", "/host/var/log/journal"},
                       {"from", "beginning"},
                       {"window", "5m"},
                       {"severity", "critical"}});
  Result<PluginOptions> filled = kJournalPlugin.keys->fill(s);
  REQUIRE(filled.ok());
  const JournalOptions* o = filled->get<JournalOptions>();
  REQUIRE(o != nullptr);
  REQUIRE(o->match.size() == 2);
  CHECK(o->match[0].value == "_SYSTEMD_UNIT=nginx.service");
  CHECK(o->match[0].line == 8);
  CHECK(o->match[1].value == "_SYSTEMD_UNIT=php.service");
  REQUIRE(o->grep.size() == 2);
  CHECK(o->priority == 3);
  CHECK(o->path == "/host/var/log/journal");
  CHECK(o->from_beginning);
  CHECK(o->window == Duration(300000));
  CHECK(make(s).ok());
}

TEST_CASE("journal plugin reports bad values at their line", "[journal]") {
  auto [key, value, says] = GENERATE(table<std::string, std::string, std::string>({
      {"match", "nginx.service", "match: 'nginx.service' is not FIELD=VALUE"},
      {"match", "unit=nginx", "is not a journal field name"},
      {"grep", "unbalanced(", "invalid regex 'unbalanced('"},
      {"priority", "error", "priority: unknown priority 'error'"},
      {"priority", "8", "priority: unknown priority '8'"},
      {"from", "middle", "from"},
      {"window", "-1s", "window"},
      {"severity", "unknown", "severity"},
      {"path", "", "path"},
  }));
  auto c = make(section({{"match", "SYSLOG_IDENTIFIER=sshd"}, {key, value}}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().file == "checks.ini");
  CHECK(c.error_info().line == 9);
  CHECK(c.error().find(says) != std::string::npos);
}

TEST_CASE("a journal check selects something", "[journal]") {
  auto c = make(section({{"from", "beginning"}}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().line == 7);
  CHECK(c.error().find("needs `match`, `grep` or `priority`") != std::string::npos);
  CHECK(make(section({{"priority", "debug"}})).ok());
  CHECK(make(section({{"grep", "x"}})).ok());
}

TEST_CASE("a PRIORITY match and `priority` exclude each other", "[journal]") {
  auto c = make(section({{"priority", "err"}, {"match", "PRIORITY=6"}}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().line == 9);
  CHECK(c.error().find("PRIORITY is what `priority` sets") != std::string::npos);
  CHECK(make(section({{"match", "PRIORITY=6"}})).ok());
}

TEST_CASE("check-config loads libsystemd and wants a journal folder", "[journal]") {
  test::TempDir dir;
  std::string file = dir.write("not-a-folder", "x");
  // libsystemd is on this machine (the tests' dependencies install it).
  CHECK(check(section({{"priority", "err"}})).empty());
  CHECK(check(section({{"priority", "err"}, {"path", dir.path()}})).empty());
  for (const std::string& path : {file, dir.file("missing")}) {
    INFO(path);
    std::vector<Error> errors = check(section({{"priority", "err"}, {"path", path}}));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == 9);
    CHECK(errors[0].message.find("path: " + path + ": ") == 0);
  }
}

TEST_CASE("an event quotes at most 512 bytes of a MESSAGE, as valid UTF-8", "[journal]") {
  CHECK(journal_sample("disk full") == "disk full");
  // Binary messages: invalid bytes become U+FFFD; a newline stays a newline.
  CHECK(journal_sample(std::string("bad \xff\xfe\nline", 11)) ==
        "bad \xef\xbf\xbd\xef\xbf\xbd\nline");
  CHECK(journal_sample(std::string("a\0b", 3)) == std::string("a\0b", 3));
  // 300 two-byte characters: 256 fit in 512 bytes, none is cut in two.
  std::string e_acute;
  for (int i = 0; i < 300; ++i) {
    e_acute += "\xc3\xa9";
  }
  std::string cut = journal_sample(e_acute);
  CHECK(cut.size() == 512);
  CHECK(cut == e_acute.substr(0, 512));
  std::string odd = "x" + e_acute;  // 1 + 2n: the last whole character ends at 511
  CHECK(journal_sample(odd).size() == 511);
}

}  // namespace
}  // namespace vigil
