#include "agent/state/state_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

AgentState one_check(CheckState state) {
  AgentState s;
  s.saved_at = from_millis(1795526102123);
  s.checks["root"] = SavedCheck{"disk", state, from_millis(1795526000000)};
  s.incidents = R"({"incidents":[]})";
  return s;
}

TEST_CASE("state store saves to its slots and loads the last save", "[state]") {
  test::TempDir dir;
  {
    StateStore store(dir.path());
    StateStore::Loaded nothing = store.load();
    CHECK_FALSE(nothing.state.has_value());
    CHECK(nothing.corrupt == 0);
    REQUIRE(store.save(one_check(CheckState::kWarning)).outcome == SlotFile::Outcome::kOk);
    REQUIRE(store.save(one_check(CheckState::kCritical)).outcome == SlotFile::Outcome::kOk);
  }
  StateStore store(dir.path());
  StateStore::Loaded loaded = store.load();
  REQUIRE(loaded.state.has_value());
  CHECK(loaded.state->checks.at("root").state == CheckState::kCritical);
  CHECK(std::filesystem::exists(dir.file("state.0")));
  CHECK(std::filesystem::exists(dir.file("state.1")));
}

TEST_CASE("state store reads a state.json of an earlier version once", "[state]") {
  test::TempDir dir;
  REQUIRE(write_file_atomic(dir.file("state.json"), encode_state(one_check(CheckState::kCritical)))
              .ok());
  StateStore store(dir.path());
  StateStore::Loaded loaded = store.load();
  REQUIRE(loaded.state.has_value());
  CHECK(loaded.state->checks.at("root").state == CheckState::kCritical);
  // Kept until the slots hold the state, then removed.
  CHECK(std::filesystem::exists(dir.file("state.json")));
  REQUIRE(store.save(*loaded.state).outcome == SlotFile::Outcome::kOk);
  CHECK_FALSE(std::filesystem::exists(dir.file("state.json")));
}

TEST_CASE("state store sets an unusable state.json aside and counts it", "[state]") {
  test::TempDir dir;
  dir.write("state.json", "{\"saved_at\": 1, \"chec");
  StateStore store(dir.path());
  StateStore::Loaded loaded = store.load();
  CHECK_FALSE(loaded.state.has_value());
  CHECK(loaded.corrupt == 1);
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].find("state.json.corrupt-") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("state.json")));
}

TEST_CASE("state store counts a document whose checksum holds but which is not a state",
          "[state]") {
  test::TempDir dir;
  {
    SlotFile slots(dir.file("state"));
    REQUIRE(slots.save("[1, 2, 3]").outcome == SlotFile::Outcome::kOk);
  }
  StateStore store(dir.path());
  StateStore::Loaded loaded = store.load();
  CHECK_FALSE(loaded.state.has_value());
  CHECK(loaded.corrupt == 1);
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].find("unusable") != std::string::npos);
}

}  // namespace
}  // namespace vigil
