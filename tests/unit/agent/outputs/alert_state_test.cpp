#include "agent/outputs/alert_state.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil {
namespace {

using nlohmann::json;

// An incident record with what alertmanager_state reads; `n` tells versions apart.
std::string record(const std::string& incident, const std::string& action, int n) {
  return json{{"kind", "incident"},
              {"incident_id", incident},
              {"key", "web1/" + incident},
              {"action", action},
              {"status", action == "resolve" ? "resolved" : "open"},
              {"n", n}}
      .dump();
}

}  // namespace

TEST_CASE("alertmanager state drops a firing record whose incident has resolved since",
          "[alert_state]") {
  // The batch ends before the resolve: sending the firing state would revive an
  // alert that Alertmanager may have ended during the outage.
  CHECK(alertmanager_state({record("a", "open", 1), record("a", "update", 2)}, {}).empty());
  // With the resolve in the batch, only the resolve goes.
  CHECK(alertmanager_state({record("a", "open", 1), record("a", "resolve", 2)}, {}) ==
        std::vector<std::string>{record("a", "resolve", 2)});
}

TEST_CASE("alertmanager state sends an open incident as it is now, not as spooled",
          "[alert_state]") {
  std::string now = record("a", "update", 9);
  CHECK(alertmanager_state({record("a", "open", 1)}, {now}) == std::vector<std::string>{now});
}

TEST_CASE("alertmanager state refreshes every open incident, named in the batch or not",
          "[alert_state]") {
  std::string b_now = record("b", "update", 5);
  std::string c_now = record("c", "open", 6);
  std::vector<std::string> out =
      alertmanager_state({record("a", "resolve", 3), record("b", "open", 1)}, {b_now, c_now});
  CHECK(out == std::vector<std::string>{record("a", "resolve", 3), b_now, c_now});
  // Nothing spooled (a periodic re-send): the open incidents alone.
  CHECK(alertmanager_state({}, {b_now}) == std::vector<std::string>{b_now});
}

TEST_CASE("alertmanager state keeps one resolve per incident and skips what is not a record",
          "[alert_state]") {
  std::vector<std::string> out = alertmanager_state(
      {"not json", "[1]", record("a", "resolve", 1), record("a", "resolve", 2)}, {"{"});
  CHECK(out == std::vector<std::string>{record("a", "resolve", 1)});
  // A record without incident_id is told apart by its key.
  std::string bare = json{{"key", "web1/x"}, {"status", "resolved"}}.dump();
  CHECK(alertmanager_state({bare}, {}) == std::vector<std::string>{bare});
}

}  // namespace vigil
