#include "plugins/log/log.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "plugins/log/log_collector.h"
#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

Section section(const test::KeyLines& keys) {
  return test::make_section("log", keys, "checks.ini", 7);
}

Result<std::unique_ptr<Collector>> make(const Section& s) {
  return kLogPlugin.create(PluginConfig{s, "syslog", "/proc", "/sys"});
}

TEST_CASE("log plugin declares its metrics and default rule", "[log]") {
  CHECK(kLogPlugin.name == "log");
  CHECK(kLogPlugin.default_rule == "matches > 0");
  CHECK(kLogPlugin.severity_key == "severity");
  REQUIRE(kLogPlugin.metrics.size() == 2);
  CHECK(kLogPlugin.metrics[0] == "matches");
  CHECK(kLogPlugin.metrics[1] == "lines");
}

TEST_CASE("log plugin's key table holds LogOptions' defaults", "[log]") {
  PluginOptions made = kLogPlugin.keys->make();  // holds what get() points into
  const LogOptions* options = made.get<LogOptions>();
  REQUIRE(options != nullptr);
  CHECK(*options == LogOptions{});
}

TEST_CASE("log plugin builds a check from repeated paths and patterns", "[log]") {
  test::TempDir dir;
  dir.write("a.log", "ERROR 1\nWARN 2\nok\nERROR ignore me\n");
  dir.write("b.log", "FATAL 3\n");
  auto c = make(section({{"path", dir.file("a.log")},
                         {"path", dir.file("b*.log")},
                         {"match", "ERROR"},
                         {"match", "FATAL"},
                         {"exclude", "ignore"},
                         {"from", "beginning"},
                         {"max_line", "1KiB"},
                         {"window", "30s"},
                         {"rotate_wait", "1s"}}));
  REQUIRE(c.ok());
  CollectContext ctx;
  ctx.now = MonotonicTime(std::chrono::hours(1));
  ctx.state_dir = dir.file("state");
  REQUIRE(std::filesystem::create_directories(ctx.state_dir));
  auto s = c.value()->read(ctx);
  REQUIRE(s.ok());
  CHECK(*s->find("matches") == 2);
  CHECK(*s->find("lines") == 5);
  CHECK(std::filesystem::exists(ctx.state_dir + "/offsets"));
}

TEST_CASE("log plugin reports bad values at their line", "[log]") {
  auto [key, value, line] = GENERATE(table<std::string, std::string, int>({
      {"match", "unbalanced(", 10},
      {"exclude", "[z-a]", 10},
      {"window", "-1s", 10},
      {"max_line", "0", 10},
      {"max_line", "lots", 10},
      {"from", "middle", 10},
      {"rotate_wait", "soon", 10},
  }));
  std::vector<std::pair<std::string, std::string>> keys = {{"path", "/var/log/x.log"},
                                                           {"match", "ok"}};
  keys.emplace_back(key, value);
  auto c = make(section(keys));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().file == "checks.ini");
  CHECK(c.error_info().line == line);
}

TEST_CASE("log plugin requires path and match", "[log]") {
  auto c = make(section({{"match", "x"}}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().line == 7);
  c = make(section({{"path", "/x"}}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().line == 7);
}

}  // namespace
}  // namespace vigil
