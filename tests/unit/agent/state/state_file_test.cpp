#include "agent/state/state_file.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

Record record(RecordKind kind, std::string id, std::string json, std::string key = "",
              CheckState severity = CheckState::kOk, int level = 0, bool resolved = false) {
  Record r;
  r.kind = kind;
  r.id = std::move(id);
  r.json = std::move(json);
  r.key = std::move(key);
  r.severity = severity;
  r.escalation_level = level;
  r.resolved = resolved;
  return r;
}

AgentState sample_state() {
  AgentState s;
  s.saved_at = from_millis(1795526102123);
  s.checks["root"] = SavedCheck{"disk", CheckState::kCritical, from_millis(1795526000000)};
  s.checks["cpu"] = SavedCheck{"cpu", CheckState::kOk, from_millis(-5)};
  s.checks["odd \"name\" \xC3\xA9"] = SavedCheck{"exec", CheckState::kUnknown, from_millis(0)};
  s.incidents = R"({"incidents":[{"key":"web1/root"}],"text":"with \"quotes\" and \n"})";
  s.unspooled.push_back(record(RecordKind::kEvent, "id-1", R"({"kind":"event"})"));
  s.unspooled.push_back(record(RecordKind::kIncident, "id-2", R"({"kind":"incident"})", "web1/root",
                               CheckState::kCritical, 2, false));
  s.unspooled.push_back(record(RecordKind::kIncident, "id-3", R"({"kind":"incident"})", "web1/cpu",
                               CheckState::kWarning, 0, true));
  s.unspooled.push_back(record(RecordKind::kProblem, "id-4", R"({"kind":"problem"})"));
  s.unspooled.push_back(record(RecordKind::kHeartbeat, "id-5", R"({"kind":"heartbeat"})"));
  return s;
}

void check_same(const Record& a, const Record& b) {
  CHECK(a.kind == b.kind);
  CHECK(a.id == b.id);
  CHECK(a.json == b.json);
  CHECK(a.key == b.key);
  CHECK(a.severity == b.severity);
  CHECK(a.escalation_level == b.escalation_level);
  CHECK(a.resolved == b.resolved);
}

}  // namespace

TEST_CASE("state file round trip keeps checks, incidents and pending records", "[state]") {
  test::TempDir dir;
  std::string path = dir.file("state.json");
  AgentState saved = sample_state();
  REQUIRE(write_file_atomic(path, encode_state(saved)).ok());
  auto loaded = load_state(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded.value().has_value());
  const AgentState& s = *loaded.value();
  CHECK(to_millis(s.saved_at) == to_millis(saved.saved_at));
  REQUIRE(s.checks.size() == saved.checks.size());
  for (const auto& [name, c] : saved.checks) {
    INFO(name);
    REQUIRE(s.checks.count(name) == 1);
    CHECK(s.checks.at(name).plugin == c.plugin);
    CHECK(s.checks.at(name).state == c.state);
    CHECK(to_millis(s.checks.at(name).since) == to_millis(c.since));
  }
  CHECK(s.incidents == saved.incidents);
  REQUIRE(s.unspooled.size() == saved.unspooled.size());
  for (size_t i = 0; i < saved.unspooled.size(); ++i) {
    check_same(s.unspooled[i], saved.unspooled[i]);
  }
}

TEST_CASE("state file save replaces the previous one", "[state]") {
  test::TempDir dir;
  std::string path = dir.file("state.json");
  REQUIRE(write_file_atomic(path, encode_state(sample_state())).ok());
  AgentState empty;
  REQUIRE(write_file_atomic(path, encode_state(empty)).ok());
  auto loaded = load_state(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded.value().has_value());
  CHECK(loaded.value()->checks.empty());
  CHECK(loaded.value()->unspooled.empty());
  CHECK(loaded.value()->incidents.empty());
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("state file that does not exist loads as nothing", "[state]") {
  test::TempDir dir;
  auto loaded = load_state(dir.file("state.json"));
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded.value().has_value());
}

TEST_CASE("state file that is truncated is an error", "[state]") {
  test::TempDir dir;
  std::string path = dir.file("state.json");
  REQUIRE(write_file_atomic(path, encode_state(sample_state())).ok());
  std::string text = read_file(path).value();
  size_t cut = GENERATE(0, 1, 10, 50, 200);
  REQUIRE(cut < text.size());
  REQUIRE(write_file_atomic(path, text.substr(0, cut)).ok());
  auto loaded = load_state(path);
  CHECK_FALSE(loaded.ok());
}

TEST_CASE("state file with wrong types or garbage is an error, never a throw", "[state]") {
  test::TempDir dir;
  std::string path = dir.file("state.json");
  const std::string good_check = R"({"plugin":"cpu","state":"ok","since":5})";
  const std::string good_pending =
      R"({"kind":1,"id":"a","json":"{}","key":"h/c","severity":2,"level":0,"resolved":false})";
  auto doc = [&](const std::string& checks, const std::string& pending,
                 const std::string& incidents = R"("")") {
    return R"({"version":1,"saved_at":100,"checks":)" + checks + R"(,"incidents":)" + incidents +
           R"(,"pending":)" + pending + "}";
  };
  // The well-formed document loads, so each variant below fails for its one flaw.
  REQUIRE(
      write_file_atomic(path, doc("{\"c\":" + good_check + "}", "[" + good_pending + "]")).ok());
  REQUIRE(load_state(path).ok());

  std::string text = GENERATE_COPY(
      std::string("\x00\x01\xFF garbage", 12), std::string("[1,2,3]"), std::string("\"text\""),
      std::string("null"), std::string("{}"), doc("[]", "[]"), doc("{}", "{}"),
      doc("{}", "[]", "5"), doc("{\"c\":5}", "[]"),
      doc(R"({"c":{"plugin":"cpu","state":"sideways","since":5}})", "[]"),
      doc(R"({"c":{"plugin":7,"state":"ok","since":5}})", "[]"),
      doc(R"({"c":{"plugin":"cpu","state":"ok","since":"yesterday"}})", "[]"), doc("{}", "[5]"),
      doc("{}", R"([{"kind":1,"id":"a","json":"{}","key":5}])"),
      doc("{}", R"([{"kind":1,"id":"a","json":"{}","severity":"high"}])"),
      doc("{}", R"([{"kind":1,"id":"a","json":"{}","level":"two"}])"),
      doc("{}", R"([{"kind":1,"id":"a","json":"{}","resolved":"yes"}])"),
      doc("{}", R"([{"kind":9,"id":"a","json":"{}"}])"),
      doc("{}", R"([{"kind":"event","id":"a","json":"{}"}])"),
      doc("{}", R"([{"kind":1,"id":5,"json":"{}"}])"),
      doc("{}", R"([{"kind":1,"id":"a","json":{}}])"), doc("{}", R"([{"kind":1,"id":"a"}])"),
      std::string(R"({"saved_at":"now","checks":{},"incidents":"","pending":[]})"));
  INFO(text);
  REQUIRE(write_file_atomic(path, text).ok());
  Result<std::optional<AgentState>> loaded = make_error("not run");
  REQUIRE_NOTHROW(loaded = load_state(path));
  CHECK_FALSE(loaded.ok());
  CHECK(loaded.error().find(path) != std::string::npos);
}

}  // namespace vigil
