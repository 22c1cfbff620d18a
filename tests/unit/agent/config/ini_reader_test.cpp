#include "agent/config/ini_reader.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("the reader records every header with its line, keyless ones too", "[config]") {
  ConfigErrors errors;
  std::vector<ParsedSection> s = parse_ini("f.ini",
                                           "[cpu]\n"
                                           "[disk]\n"
                                           "path = /\n"
                                           "\n"
                                           "[disk]\n"
                                           "path = /var\n",
                                           &errors);
  CHECK(errors.empty());
  REQUIRE(s.size() == 3);
  CHECK(s[0].section.type == "cpu");
  CHECK(s[0].section.line == 1);
  CHECK(s[0].section.entries.empty());
  CHECK(s[1].section.line == 2);
  CHECK(s[2].section.line == 5);
  REQUIRE(s[1].section.entries.size() == 1);
  REQUIRE(s[2].section.entries.size() == 1);
  CHECK(s[1].section.entries[0].value == "/");
  CHECK(s[2].section.entries[0].value == "/var");
  CHECK(s[2].section.entries[0].line == 6);
  CHECK(s[2].section.entries[0].file == "f.ini");
}

TEST_CASE("section names longer than inih's 50 bytes are kept whole", "[config]") {
  ConfigErrors errors;
  std::string name(120, 'n');
  std::vector<ParsedSection> s = parse_ini("f.ini", "[exec " + name + "]\ncommand = x\n", &errors);
  CHECK(errors.empty());
  REQUIRE(s.size() == 1);
  CHECK(s[0].section.name == name);
  CHECK(s[0].section.entries.size() == 1);
}

TEST_CASE("keys repeat in file order with their own lines", "[config]") {
  ConfigErrors errors;
  std::vector<ParsedSection> s =
      parse_ini("f.ini", "\xEF\xBB\xBF[log]\n  match = a\n\tmatch = b ; c\nmatch=d;e\n", &errors);
  CHECK(errors.empty());
  REQUIRE(s.size() == 1);
  std::vector<const Entry*> all = s[0].section.all("match");
  REQUIRE(all.size() == 3);
  CHECK(all[0]->value == "a");
  CHECK(all[0]->line == 2);
  CHECK(all[1]->value == "b");
  CHECK(all[2]->value == "d;e");
  CHECK(all[2]->line == 4);
}

TEST_CASE("an over-long key line keeps its key as given but without a value", "[config]") {
  ConfigErrors errors;
  std::vector<ParsedSection> s =
      parse_ini("f.ini", "[disk]\npath = " + std::string(300, '/') + "\n", &errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() == "f.ini:2: line too long (307 bytes, at most 198)");
  REQUIRE(s.size() == 1);
  CHECK(s[0].section.entries.empty());
  CHECK(s[0].broken_keys.count("path") == 1);
}

}  // namespace vigil
