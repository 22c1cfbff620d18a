#include "agent/loop/self_check.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const MonotonicTime kStart{std::chrono::hours(1)};

LossCounters dropped(uint64_t n) {
  LossCounters l;
  l.dropped = n;
  return l;
}

TEST_CASE("self check is ok while nothing was lost", "[self_check]") {
  SelfCheck c;
  Evaluation e = c.evaluate(kStart, {}, {}, {});
  CHECK(e.state == CheckState::kOk);
  CHECK(e.message == "vigil: no data lost in the last 5 minutes");
  CHECK(c.metrics().size() == 5);
}

TEST_CASE("self check warns for 5 minutes after a loss, naming counter, growth and place",
          "[self_check]") {
  SelfCheck c;
  CHECK(c.evaluate(kStart, {}, {}, {}).state == CheckState::kOk);
  std::vector<LossPlace> places{{"dropped", "output rx"}, {"dead_lettered", "output pd"}};
  Evaluation e = c.evaluate(kStart + seconds(10), dropped(7), places, {});
  CHECK(e.state == CheckState::kWarning);
  CHECK(e.metric == "dropped");
  CHECK(e.value == 7);
  CHECK(e.message == "vigil lost data: dropped grew by 7 in the last 5 minutes (output rx)");
  // Still within 5 minutes of the growth.
  CHECK(c.evaluate(kStart + minutes(5), dropped(7), places, {}).state == CheckState::kWarning);
  // The baseline moves past the growth: ok again, the counter stays where it is.
  Evaluation later = c.evaluate(kStart + minutes(5) + seconds(20), dropped(7), places, {});
  CHECK(later.state == CheckState::kOk);
  CHECK(c.metrics()[0] == std::make_pair(std::string("dropped"), 7.0));
}

TEST_CASE("self check names the first counter that grew when several did", "[self_check]") {
  SelfCheck c;
  LossCounters l;
  l.dead_lettered = 2;
  l.log_bytes_skipped = 900;
  Evaluation e = c.evaluate(kStart, l, {{"log_bytes_skipped", "check app: file /var/log/a"}}, {});
  CHECK(e.metric == "dead_lettered");
  CHECK(e.value == 2);
}

TEST_CASE("self check warns while something cannot be made durable, naming the place",
          "[self_check]") {
  SelfCheck c;
  std::vector<StorageProblem> full{{"state_dir /var/lib/vigil",
                                    "cannot write /var/lib/vigil/state.1: No space left on device",
                                    12}};
  Evaluation e = c.evaluate(kStart, {}, {}, full);
  CHECK(e.state == CheckState::kWarning);
  CHECK(e.metric == "records_in_memory");
  CHECK(e.value == 12);
  CHECK(e.message.find("state_dir /var/lib/vigil") != std::string::npos);
  CHECK(e.message.find("No space left on device") != std::string::npos);
  CHECK(c.metrics().back() == std::make_pair(std::string("records_in_memory"), 12.0));
  // A loss at the same time leads; the storage problem is still said.
  Evaluation both = c.evaluate(kStart + seconds(1), dropped(1), {{"dropped", "output rx"}}, full);
  CHECK(both.metric == "dropped");
  CHECK(both.message.find("state_dir /var/lib/vigil") != std::string::npos);
  // Space returns.
  CHECK(c.evaluate(kStart + minutes(6), dropped(1), {}, {}).state == CheckState::kOk);
}

}  // namespace
}  // namespace vigil
