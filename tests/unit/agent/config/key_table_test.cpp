#include "agent/plugin/key_table.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/loader.h"
#include "agent/config/plugin_registry.h"
#include "agent/config/sections.h"
#include "tests/support/plugin_test.h"

namespace vigil {
namespace {

struct Options {
  std::string name;
  std::optional<std::string> user;
  std::vector<std::string> paths;
  std::vector<std::string> items;
  std::vector<Entry> patterns;
  Duration window{};
  uint64_t max_line = 0;
  uint64_t count = 0;
  int level = 0;
  bool on = false;
  std::string mode;
  bool strict = false;
};

const KeyTable<Options> kTable = {
    key("name", &Options::name).required().help("a name"),
    key("user", &Options::user),
    key("path", &Options::paths).path(),
    key("items", &Options::items).list(),
    key("pattern", &Options::patterns).regex(),
    key("window", &Options::window).default_value("5m").greater_than("0"),
    key("max_line", &Options::max_line).default_value("16KiB").at_least("1").at_most("1MiB"),
    key("count", &Options::count).integer().default_value("7"),
    key("level", &Options::level).at_least("1"),
    key("on", &Options::on).default_value("yes"),
    key("mode", &Options::mode).choices("fast,slow").default_value("slow"),
    key<Options>("strict", ValueType::kChoice,
                 [](Options& o, const Entry& e) -> Status {
                   o.strict = e.value == "yes";
                   if (e.value == "maybe") {
                     return make_error("strict: make up your mind");
                   }
                   return {};
                 })
        .choices("yes,no,maybe"),
    key<Options>("checked", ValueType::kDuration),
};

Section section(const test::KeyLines& keys) {
  return test::make_section("thing", keys, "vigil.ini", 3, "t");
}

std::vector<std::string> fill(const Section& s, Options* o) {
  REQUIRE(kTable.apply_defaults(o).ok());
  KeyTarget target = kTable.target(o);
  std::vector<std::string> out;
  for (const Error& e : fill_keys(s, std::span<const KeyTarget>(&target, 1))) {
    out.push_back(e.file + ":" + std::to_string(e.line) + ": " + e.message);
  }
  return out;
}

}  // namespace

TEST_CASE("a key table fills members by their type and applies defaults once", "[config][keys]") {
  Options o;
  std::vector<std::string> errors = fill(section({{"name", "web"},
                                                  {"path", "/a"},
                                                  {"path", "/b"},
                                                  {"items", "x, y,z"},
                                                  {"pattern", "^a"},
                                                  {"pattern", "b$"},
                                                  {"max_line", "64KiB"},
                                                  {"level", "2"},
                                                  {"mode", " fast "},
                                                  {"strict", "yes"},
                                                  {"checked", "1s"}}),
                                         &o);
  CHECK(errors.empty());
  CHECK(o.name == "web");
  CHECK_FALSE(o.user.has_value());
  CHECK(o.paths == std::vector<std::string>{"/a", "/b"});
  CHECK(o.items == std::vector<std::string>{"x", "y", "z"});
  REQUIRE(o.patterns.size() == 2);
  CHECK(o.patterns[1].value == "b$");
  CHECK(o.patterns[1].line == 9);
  CHECK(o.window == std::chrono::minutes(5));
  CHECK(o.max_line == 64 * 1024);
  CHECK(o.count == 7);
  CHECK(o.level == 2);
  CHECK(o.on);
  CHECK(o.mode == "fast");
  CHECK(o.strict);
}

TEST_CASE("a key table reports every bad line at its place", "[config][keys]") {
  Options o;
  std::vector<std::string> errors = fill(section({{"name", "a"},
                                                  {"name", "b"},
                                                  {"colour", "red"},
                                                  {"window", "0"},
                                                  {"max_line", "0"},
                                                  {"max_line", "2MiB"},
                                                  {"level", "0"},
                                                  {"count", "-1"},
                                                  {"on", "maybe"},
                                                  {"mode", "medium"},
                                                  {"strict", "maybe"},
                                                  {"path", " "},
                                                  {"checked", "soon"}}),
                                         &o);
  CHECK(errors ==
        std::vector<std::string>{
            "vigil.ini:5: duplicate key 'name' (first at line 4; only warning, critical and keys "
            "marked repeatable may repeat)",
            "vigil.ini:6: unknown key 'colour' in [thing t]",
            "vigil.ini:7: window: must be greater than 0",
            "vigil.ini:8: max_line: must be at least 1",
            "vigil.ini:9: duplicate key 'max_line' (first at line 8; only warning, critical and "
            "keys marked repeatable may repeat)",
            "vigil.ini:10: level: must be at least 1",
            "vigil.ini:11: count: invalid integer '-1' (a whole number, 0 or more)",
            "vigil.ini:12: on: invalid boolean 'maybe' (use true/false, yes/no, on/off)",
            "vigil.ini:13: mode: invalid value 'medium' (use fast, slow)",
            "vigil.ini:14: strict: make up your mind",
            "vigil.ini:15: path: empty path",
            "vigil.ini:16: checked: invalid duration 'soon' (use e.g. 250ms, 10s, 5m)",
        });
  // A bad value leaves the default in place.
  CHECK(o.window == std::chrono::minutes(5));

  std::vector<std::string> at_most = fill(section({{"name", "a"}, {"max_line", "2MiB"}}), &o);
  CHECK(at_most == std::vector<std::string>{"vigil.ini:5: max_line: must be at most 1MiB"});
}

TEST_CASE("a missing required key is reported at the header unless its line broke",
          "[config][keys]") {
  Options o;
  CHECK(fill(section({}), &o) ==
        std::vector<std::string>{"vigil.ini:3: missing required key 'name' in [thing t]"});
  std::set<std::string> broken = {"name"};
  FillOptions options;
  options.given = &broken;
  KeyTarget target = kTable.target(&o);
  CHECK(fill_keys(section({}), std::span<const KeyTarget>(&target, 1), options).empty());
}

TEST_CASE("a table fills its options from a section, skipping other keys", "[config][keys]") {
  Result<PluginOptions> filled =
      kTable.fill(section({{"name", "n"}, {"warning", "x > 1"}, {"interval", "1s"}}));
  REQUIRE(filled.ok());
  const Options* o = filled->get<Options>();
  REQUIRE(o != nullptr);
  CHECK(o->name == "n");
  CHECK(o->window == std::chrono::minutes(5));
  CHECK(filled->get<int>() == nullptr);  // the type is kept

  // Given options of the table's type are used as they are.
  CHECK(kTable.options_for(filled.value(), section({}))->get<Options>() == o);

  Result<PluginOptions> bad = kTable.fill(section({{"name", "n"}, {"window", "-1s"}}));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error_info().file == "vigil.ini");
  CHECK(bad.error_info().line == 5);
  CHECK(bad.error() == "window: negative duration '-1s'");
}

TEST_CASE("every key table's defaults and limits parse", "[config][keys]") {
  std::vector<std::pair<std::string, std::span<const KeySpec>>> tables = {
      {"agent", agent_keys()},
      {"incidents", incident_keys()},
      {"check", check_keys()},
      {"output", output_keys()},
  };
  for (const Plugin* p : all_plugins()) {
    if (p->keys != nullptr) {
      tables.emplace_back(std::string(p->name), p->keys->keys());
    }
  }
  for (const auto& [name, keys] : tables) {
    for (const KeySpec& k : keys) {
      INFO(name << " " << k.name);
      CHECK_FALSE(k.help.empty());
      if (k.default_is_value) {
        CHECK(parse_key_value(k, k.default_text).ok());
      }
      for (std::string_view limit : {k.greater_than, k.at_least, k.at_most}) {
        if (!limit.empty()) {
          KeySpec unlimited = k;
          unlimited.greater_than = unlimited.at_least = unlimited.at_most = {};
          CHECK((k.type == ValueType::kDuration || k.type == ValueType::kSize ||
                 k.type == ValueType::kInt));
          CHECK(parse_key_value(unlimited, limit).ok());
        }
      }
      // A default cannot add to what a repeated key's lines give.
      CHECK_FALSE((k.repeatable && k.default_is_value));
    }
  }
  for (const Plugin* p : all_plugins()) {
    if (p->keys != nullptr) {
      INFO(p->name);
      CHECK_FALSE(p->keys->make().empty());
    }
  }
}

TEST_CASE("the core structures' initializers are their tables' defaults", "[config][keys]") {
  AgentConfig agent;
  REQUIRE(agent_key_table().apply_defaults(&agent).ok());
  CHECK(agent == AgentConfig{});

  IncidentPolicy policy;
  policy.flap_changes = 0;
  REQUIRE(incident_key_table().apply_defaults(&policy).ok());
  CHECK(policy == IncidentPolicy{});

  CheckConfig check;
  check.unknown_after = 0;
  check.enabled = false;
  REQUIRE(check_key_table().apply_defaults(&check).ok());
  CHECK(check.unknown_after == CheckConfig{}.unknown_after);
  CHECK(check.enabled == CheckConfig{}.enabled);
}

TEST_CASE("an output without keys but its url has the output's defaults", "[config][keys]") {
  ParsedSection parsed;
  parsed.section.type = "output";
  parsed.section.file = "vigil.ini";
  parsed.section.line = 1;
  parsed.section.entries.push_back(Entry{"url", "stdout", "vigil.ini", 2});
  ConfigErrors errors;
  OutputConfig out = build_output(parsed, &errors);
  CHECK(errors.empty());
  OutputConfig expected;
  expected.name = "default";
  expected.url = "stdout";
  expected.file = "vigil.ini";
  expected.line = 1;
  CHECK(out == expected);
}

}  // namespace vigil
