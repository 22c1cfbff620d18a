#include "agent/silences/silence_set.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

const SystemTime kNow = from_millis(1795000000000);  // Wednesday 2026-11-18, 11:06:40 UTC
constexpr Duration kHour = std::chrono::hours(1);
const SilenceSubject kDisk{"disk_root", "disk", "critical", {{"env", "prod"}}};
const SilenceSubject kCpu{"cpu", "cpu", "warning", {{"env", "prod"}}};

Silence silence(const char* matcher, SystemTime starts, SystemTime ends) {
  Silence s;
  s.matchers.push_back(*parse_matcher(matcher));
  s.starts_at = starts;
  s.ends_at = ends;
  s.created_by = "alice";
  s.comment = "work";
  return s;
}

SilenceConfig window_config(const char* name, const char* match, const char* weekly,
                            const char* starts = "", const char* ends = "") {
  SilenceConfig c;
  c.name = name;
  c.match = {match};
  c.comment = "window";
  c.weekly = weekly;
  c.starts = starts;
  c.ends = ends;
  return c;
}

TEST_CASE("an added silence mutes what it matches while it is active", "[silences]") {
  SilenceSet set;
  Result<std::string> id =
      set.add(silence("check=disk_root", kNow + kHour, kNow + 2 * kHour), kNow);
  REQUIRE(id.ok());
  CHECK(id->size() == 36);
  CHECK(set.take_changed());
  CHECK_FALSE(set.take_changed());
  CHECK(set.muting(kDisk, kNow).empty());
  CHECK(set.muting(kDisk, kNow + kHour) == std::vector<std::string>{*id});
  CHECK(set.muting(kCpu, kNow + kHour).empty());
  CHECK(set.muting(kDisk, kNow + 2 * kHour).empty());
}

TEST_CASE("the set refuses what a silence's rules refuse", "[silences]") {
  SilenceSet set;
  CHECK_FALSE(set.add(silence("check=~.*", kNow, kNow + kHour), kNow).ok());
  CHECK_FALSE(set.add(silence("check=x", kNow, kNow), kNow).ok());
  CHECK(set.list(kNow).empty());
  CHECK_FALSE(set.take_changed());
}

TEST_CASE("expiring ends a silence now and keeps it listed as expired", "[silences]") {
  SilenceSet set;
  std::string active = *set.add(silence("check=disk_root", kNow, kNow + kHour), kNow);
  std::string pending = *set.add(silence("check=cpu", kNow + kHour, kNow + 2 * kHour), kNow);
  SystemTime later = kNow + std::chrono::minutes(10);
  CHECK(set.expire(active, later) == SilenceSet::Expiry::kExpired);
  CHECK(set.expire(pending, later) == SilenceSet::Expiry::kExpired);
  CHECK(set.expire(active, later) == SilenceSet::Expiry::kAlreadyExpired);
  CHECK(set.expire("nope", later) == SilenceSet::Expiry::kNotFound);
  CHECK(set.muting(kDisk, later).empty());
  CHECK(set.muting(kCpu, kNow + kHour).empty());  // the pending one never starts
  std::vector<Silence> all = set.list(later);
  REQUIRE(all.size() == 2);
  for (const Silence& s : all) {
    CHECK(s.state(later) == SilenceState::kExpired);
    CHECK(s.ends_at == later);
    CHECK(s.updated_at == later);
    CHECK(s.starts_at <= s.ends_at);
  }
}

TEST_CASE("expired silences are kept five days, then forgotten", "[silences]") {
  SilenceSet set;
  std::string id = *set.add(silence("check=disk_root", kNow, kNow + kHour), kNow);
  (void)set.take_changed();
  CHECK(set.next_change(kNow) == kNow + kHour);
  CHECK(set.next_change(kNow + kHour) == kNow + kHour + SilenceSet::kKeepExpired);
  CHECK_FALSE(set.forget_old(kNow + kHour + SilenceSet::kKeepExpired - Duration(1)));
  CHECK(set.list(kNow + 2 * kHour).size() == 1);
  CHECK(set.forget_old(kNow + kHour + SilenceSet::kKeepExpired));
  CHECK(set.take_changed());
  CHECK(set.list(kNow).empty());
  CHECK(set.next_change(kNow) == std::nullopt);
}

TEST_CASE("an expire-on-resolve silence ends when an incident it muted resolves", "[silences]") {
  SilenceSet set;
  Silence s = silence("check=~disk_.*", kNow, kNow + kHour);
  s.expire_on_resolve = true;
  std::string eor = *set.add(s, kNow);
  std::string plain = *set.add(silence("plugin=disk", kNow, kNow + kHour), kNow);
  (void)set.take_changed();
  SystemTime t = kNow + std::chrono::minutes(5);
  set.note_resolved({"some-other-id"}, t);
  CHECK_FALSE(set.take_changed());
  set.note_resolved({eor, plain}, t);
  CHECK(set.take_changed());
  CHECK(set.muting(kDisk, t) == std::vector<std::string>{plain});
  for (const Silence& x : set.list(t)) {
    CHECK((x.id == eor) == (x.state(t) == SilenceState::kExpired));
  }
}

TEST_CASE("at most kMaxLive silences are pending or active", "[silences]") {
  SilenceSet set;
  for (size_t i = 0; i < SilenceSet::kMaxLive; ++i) {
    REQUIRE(set.add(silence("check=disk_root", kNow, kNow + kHour), kNow).ok());
  }
  CHECK(set.full(kNow));
  Result<std::string> refused = set.add(silence("check=disk_root", kNow, kNow + kHour), kNow);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error(), Catch::Contains("too many silences"));
  CHECK_FALSE(set.full(kNow + kHour));  // they all expired
}

TEST_CASE("beyond kMaxKept, the silence that ended first is forgotten", "[silences]") {
  SilenceSet set;
  std::vector<Silence> old;
  for (size_t i = 0; i < SilenceSet::kMaxKept; ++i) {
    Silence s = silence("check=disk_root", kNow - 2 * kHour, kNow - kHour + Duration(i));
    s.id = "old-" + std::to_string(i);
    old.push_back(std::move(s));
  }
  set.restore(std::move(old));
  REQUIRE(set.add(silence("check=cpu", kNow, kNow + kHour), kNow).ok());
  std::vector<Silence> all = set.list(kNow);
  CHECK(all.size() == SilenceSet::kMaxKept);
  CHECK(all.front().id == "old-1");  // old-0 ended first
}

TEST_CASE("a weekly window mutes inside each occurrence and says when it opens and closes",
          "[silences]") {
  SilenceSet set;
  // At kNow the window opens in 53m20s, at 12:00, and closes at 13:00.
  set.set_windows({*make_window(window_config("backup", "check=disk_root", "Wed 12:00 1h"))});
  CHECK_FALSE(set.take_changed());  // windows are not saved
  SystemTime opens = kNow + std::chrono::seconds(53 * 60 + 20);
  CHECK(set.next_change(kNow) == opens);
  CHECK(set.muting(kDisk, opens - Duration(1)).empty());
  CHECK(set.muting(kDisk, opens) == std::vector<std::string>{"config:backup"});
  CHECK(set.next_change(opens) == opens + kHour);
  CHECK(set.muting(kDisk, opens + kHour).empty());
  CHECK(set.next_change(opens + kHour) == opens + std::chrono::hours(24 * 7));
  CHECK(set.muting(kDisk, opens + std::chrono::hours(24 * 7)) ==
        std::vector<std::string>{"config:backup"});
  std::vector<Silence> listed = set.list(kNow);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].window == "backup");
  CHECK(listed[0].created_by == "config");
  CHECK(listed[0].state(kNow) == SilenceState::kPending);
  CHECK(set.expire("config:backup", kNow) == SilenceSet::Expiry::kWindow);
}

TEST_CASE("an absolute window mutes between its starts and ends only", "[silences]") {
  SilenceSet set;
  set.set_windows({*make_window(
      window_config("move", "tag.env=prod", "", "2026-11-18T08:00:00Z", "2026-11-18T09:00:00Z"))});
  SystemTime starts;
  REQUIRE(parse_rfc3339("2026-11-18T08:00:00Z", &starts));
  CHECK(set.muting(kCpu, starts - Duration(1)).empty());
  CHECK(set.muting(kCpu, starts).size() == 1);
  CHECK(set.muting(kDisk, starts + kHour - Duration(1)).size() == 1);
  CHECK(set.muting(kDisk, starts + kHour).empty());
  CHECK(set.next_change(starts + kHour) == std::nullopt);  // never again
  set.set_windows({});
  CHECK(set.muting(kCpu, starts).empty());
}

TEST_CASE("make_window refuses what the loader would refuse", "[silences]") {
  CHECK_FALSE(make_window(window_config("w", "check=~.*", "Sun 02:00 2h")).ok());
  CHECK_FALSE(make_window(window_config("w", "check=x", "Sun 25:00 2h")).ok());
  CHECK_FALSE(
      make_window(window_config("w", "check=x", "", "2026-11-18T09:00:00Z", "2026-11-18T08:00:00Z"))
          .ok());
  CHECK_FALSE(make_window(window_config("w", "check=x", "", "yesterday", "today")).ok());
}

}  // namespace
}  // namespace vigil
