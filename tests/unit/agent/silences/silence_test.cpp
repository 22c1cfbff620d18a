#include "agent/silences/silence.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

const SystemTime kNow = from_millis(1795000000000);
constexpr Duration kHour = std::chrono::hours(1);

std::vector<Matcher> matchers(std::initializer_list<const char*> texts) {
  std::vector<Matcher> out;
  for (const char* t : texts) {
    Result<Matcher> m = parse_matcher(t);
    REQUIRE(m.ok());
    out.push_back(std::move(m).value());
  }
  return out;
}

Silence draft() {
  Silence s;
  s.matchers = matchers({"check=disk_root"});
  s.starts_at = kNow;
  s.ends_at = kNow + kHour;
  s.created_by = "alice";
  s.comment = "disk swap";
  return s;
}

std::string refusal(Silence s) {
  Status st = validate_new_silence(s, kNow);
  REQUIRE_FALSE(st.ok());
  return st.error();
}

TEST_CASE("a silence needs at least one matcher", "[silences]") {
  Silence s = draft();
  s.matchers.clear();
  CHECK_THAT(refusal(s), Catch::Contains("at least one matcher"));
}

TEST_CASE("a set of matchers that matches every incident is refused", "[silences]") {
  auto set = GENERATE(as<std::vector<const char*>>{}, std::vector<const char*>{"check=~.*"},
                      std::vector<const char*>{"check!=x"},
                      std::vector<const char*>{"check=~.*", "tag.env="},
                      std::vector<const char*>{"check!~disk.*", "plugin=~.*"});
  Silence s = draft();
  s.matchers.clear();
  for (const char* t : set) {
    s.matchers.push_back(*parse_matcher(t));
  }
  CHECK_THAT(refusal(s), Catch::Contains("match every incident"));
}

TEST_CASE("one matcher that names something is enough beside broad ones", "[silences]") {
  Silence s = draft();
  s.matchers = matchers({"check=~.*", "tag.env=prod"});
  CHECK(validate_new_silence(s, kNow).ok());
  s.matchers = matchers({"check!=x", "check=~disk_.+"});
  CHECK(validate_new_silence(s, kNow).ok());
}

TEST_CASE("a silence must end after it starts", "[silences]") {
  Silence s = draft();
  s.ends_at = s.starts_at;
  CHECK_THAT(refusal(s), Catch::Contains("must end after it starts"));
  s.ends_at = s.starts_at - Duration(1);
  CHECK_THAT(refusal(s), Catch::Contains("must end after it starts"));
}

TEST_CASE("a start in the past becomes now; an end in the past is then refused", "[silences]") {
  Silence s = draft();
  s.starts_at = kNow - 2 * kHour;
  REQUIRE(validate_new_silence(s, kNow).ok());
  CHECK(s.starts_at == kNow);
  CHECK(s.updated_at == kNow);
  Silence late = draft();
  late.starts_at = kNow - 2 * kHour;
  late.ends_at = kNow - kHour;
  CHECK_THAT(refusal(late), Catch::Contains("must end after it starts"));
}

TEST_CASE("a silence needs a comment and an author, within bounds", "[silences]") {
  Silence s = draft();
  s.comment.clear();
  CHECK_THAT(refusal(s), Catch::Contains("comment"));
  s = draft();
  s.comment = std::string(kMaxCommentBytes + 1, 'x');
  CHECK_THAT(refusal(s), Catch::Contains("longer than"));
  s = draft();
  s.created_by.clear();
  CHECK_THAT(refusal(s), Catch::Contains("author"));
  s = draft();
  s.matchers.clear();
  for (size_t i = 0; i <= kMaxMatchers; ++i) {
    s.matchers.push_back(*parse_matcher("check=c" + std::to_string(i)));
  }
  CHECK_THAT(refusal(s), Catch::Contains("at most"));
}

TEST_CASE("a silence is pending, active, then expired, its end exclusive", "[silences]") {
  Silence s = draft();
  s.starts_at = kNow + kHour;
  s.ends_at = kNow + 2 * kHour;
  SilenceSubject disk{"disk_root", "disk", "critical", {}};
  CHECK(s.state(kNow) == SilenceState::kPending);
  CHECK_FALSE(s.mutes(disk, kNow));
  CHECK(s.state(kNow + kHour) == SilenceState::kActive);
  CHECK(s.mutes(disk, kNow + kHour));
  CHECK_FALSE(s.mutes(SilenceSubject{"cpu", "cpu", "critical", {}}, kNow + kHour));
  CHECK(s.state(kNow + 2 * kHour - Duration(1)) == SilenceState::kActive);
  CHECK(s.state(kNow + 2 * kHour) == SilenceState::kExpired);
  CHECK_FALSE(s.mutes(disk, kNow + 2 * kHour));
  CHECK(silence_state_name(SilenceState::kPending) == "pending");
  CHECK(silence_state_name(SilenceState::kActive) == "active");
  CHECK(silence_state_name(SilenceState::kExpired) == "expired");
}

}  // namespace
}  // namespace vigil
