#include "agent/outputs/dead_letters.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<SpoolEntry> entries(const std::string& first_id, int n, size_t pad = 0) {
  std::vector<SpoolEntry> out;
  for (int i = 0; i < n; ++i) {
    std::string id = i == 0 ? first_id : first_id + "-" + std::to_string(i);
    out.push_back({id, json{{"id", id}, {"pad", std::string(pad, 'p')}}.dump()});
  }
  return out;
}

}  // namespace

TEST_CASE("dead letter file is named by time and first id and holds status, reply, records",
          "[dead_letters]") {
  test::TempDir dir;
  std::string dead = dir.file("dead/main");  // created as needed
  auto batch = entries("0190a1b2-0000-7000-8000-000000000001", 3);
  REQUIRE(write_dead_letter(dead, 422, "{\"error\":\"unknown field\"}", batch,
                            from_millis(1795526102123))
              .ok());
  REQUIRE(names_in(dead) == std::vector<std::string>{
                                "20261124T131502.123Z-0190a1b2-0000-7000-8000-000000000001.json"});
  json j = json::parse(read_file(dead + "/" + names_in(dead)[0]).value(), nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["status"] == 422);
  CHECK(j["reply"] == "{\"error\":\"unknown field\"}");
  REQUIRE(j["records"].size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(j["records"][i] == json::parse(batch[i].payload));
  }
}

TEST_CASE("dead letter keeps the first 4 KiB of the reply as valid UTF-8", "[dead_letters]") {
  test::TempDir dir;
  std::string reply = "\xFF";
  for (int i = 0; i < 3000; ++i) {
    reply += "\xC3\xA9";
  }
  REQUIRE(write_dead_letter(dir.path(), 400, reply, entries("a", 1), from_millis(0)).ok());
  json j =
      json::parse(read_file(dir.path() + "/" + names_in(dir.path())[0]).value(), nullptr, false);
  REQUIRE(j.is_object());
  std::string got = j["reply"].get<std::string>();
  CHECK(got.size() <= 4096);
  CHECK(got.size() >= 4090);
  CHECK(got.rfind("\xEF\xBF\xBD\xC3\xA9", 0) == 0);  // the bad byte became U+FFFD
}

TEST_CASE("trim_dead_letters removes the oldest files and counts their records", "[dead_letters]") {
  test::TempDir dir;
  // Five files of about 1 KiB, one second apart, holding 1..5 records.
  for (int i = 0; i < 5; ++i) {
    REQUIRE(write_dead_letter(dir.path(), 400, "",
                              entries("r" + std::to_string(i), i + 1, 1000 / (i + 1)),
                              from_millis(1795526102000 + i * 1000))
                .ok());
  }
  dir.write("notes.txt", std::string(5000, 'n'));  // not a dead letter: never counted or removed
  auto before = names_in(dir.path());
  REQUIRE(before.size() == 6);
  uint64_t total = 0;
  for (const auto& n : before) {
    if (n != "notes.txt") {
      total += fs::file_size(dir.file(n));
    }
  }
  uint64_t last_two = fs::file_size(dir.file(before[3])) + fs::file_size(dir.file(before[4]));
  CHECK(trim_dead_letters(dir.path(), total) == 0);  // at the cap: nothing to do
  uint64_t dropped = trim_dead_letters(dir.path(), last_two);
  CHECK(dropped == 1 + 2 + 3);
  CHECK(names_in(dir.path()) == std::vector<std::string>{before[3], before[4], "notes.txt"});
  CHECK(trim_dead_letters(dir.path(), 0) == 4 + 5);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"notes.txt"});
  CHECK(trim_dead_letters(dir.file("absent"), 0) == 0);
}

}  // namespace vigil
