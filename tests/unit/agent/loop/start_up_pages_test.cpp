#include "agent/loop/start_up_pages.h"

#include <catch2/catch.hpp>
#include <memory>

#include "tests/support/test_loop.h"

namespace vigil {
namespace {

TEST_CASE("start-up pages are given back once, when the agent has settled", "[loop][footprint]") {
  test::TestLoop loop;
  auto pages = std::make_unique<StartUpPages>(loop.get());
  // A reload moves the release to `settle` after it: scheduled again, it runs once.
  pages->schedule(std::chrono::hours(1));
  pages->schedule(Duration(5));
  CHECK(loop.run_until([&] { return pages->releases() == 1; }));
  CHECK_FALSE(loop.run_until([&] { return pages->releases() > 1; }, Duration(50)));
  pages.reset();
  CHECK(loop.close() == 0);
}

TEST_CASE("a stopping agent gives back no pages", "[loop][footprint]") {
  test::TestLoop loop;
  auto pages = std::make_unique<StartUpPages>(loop.get());
  pages->schedule(Duration(5));
  pages->stop();
  CHECK_FALSE(loop.run_until([&] { return pages->releases() > 0; }, Duration(50)));
  pages.reset();
  CHECK(loop.close() == 0);
}

}  // namespace
}  // namespace vigil
