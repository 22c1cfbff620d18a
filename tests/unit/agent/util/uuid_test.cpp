#include "agent/util/uuid.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace vigil {
namespace {

const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");

// The 48-bit Unix milliseconds at the head of a UUIDv7.
int64_t millis_of(const std::string& id) {
  return static_cast<int64_t>(std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16));
}

// uuid_v7 never goes back in time within a process, so tests start after the
// latest millisecond any earlier id used.
int64_t latest_millis() { return millis_of(uuid_v7(from_millis(0))); }

}  // namespace

TEST_CASE("uuid_v7 has the version and variant bits and the time in front", "[uuid]") {
  int64_t ms = latest_millis() + 1;
  std::string id = uuid_v7(from_millis(ms));
  REQUIRE(std::regex_match(id, kUuid));
  CHECK(id[14] == '7');
  CHECK(std::string("89ab").find(id[19]) != std::string::npos);
  CHECK(millis_of(id) == ms);
}

TEST_CASE("uuid_v7 ids made within one millisecond strictly increase", "[uuid]") {
  SystemTime t = from_millis(latest_millis() + 1);
  // More than the 4096 a 12-bit counter holds in one millisecond.
  std::vector<std::string> ids;
  for (int i = 0; i < 5000; ++i) {
    ids.push_back(uuid_v7(t));
  }
  for (size_t i = 1; i < ids.size(); ++i) {
    INFO(ids[i - 1] << " then " << ids[i]);
    REQUIRE(ids[i - 1] < ids[i]);
    REQUIRE(ids[i][14] == '7');
  }
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
}

TEST_CASE("uuid_v7 keeps increasing when the clock steps back", "[uuid]") {
  int64_t ms = latest_millis() + 10;
  std::string a = uuid_v7(from_millis(ms));
  std::string b = uuid_v7(from_millis(ms - 5));
  CHECK(a < b);
}

TEST_CASE("uuid_v4 is random with the version 4 bits", "[uuid]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = uuid_v4();
    REQUIRE(std::regex_match(id, kUuid));
    CHECK(id[14] == '4');
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("ids made on several threads at once are all distinct", "[uuid]") {
  // Each thread draws its random bits from a buffer of its own, refilled every 16 ids.
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (auto& ids : made) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 2000; ++i) {
        ids.push_back(i % 2 == 0 ? uuid_v4() : uuid_v7(std::chrono::system_clock::now()));
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  std::set<std::string> seen;
  for (const auto& ids : made) {
    for (const std::string& id : ids) {
      REQUIRE(std::regex_match(id, kUuid));
      seen.insert(id);
    }
  }
  CHECK(seen.size() == 8000);
}

}  // namespace vigil
