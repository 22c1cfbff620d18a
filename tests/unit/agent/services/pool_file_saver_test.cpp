#include "agent/services/pool_file_saver.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

TEST_CASE("file saver writes off the loop and the latest contents win", "[services]") {
  test::TempDir dir;
  test::TestLoop loop;
  {
    PoolFileSaver saver(loop.get());
    std::string path = dir.file("offsets");
    for (int i = 0; i < 50; ++i) {
      saver.save(path, "generation " + std::to_string(i));
    }
    // One save runs, one waits: the 48 in between were never written.
    CHECK(saver.busy() == 1);
    REQUIRE(loop.run_until([&] { return saver.busy() == 0; }));
    CHECK(read_file(path).value() == "generation 49");
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("file saver keeps going after a failed save", "[services]") {
  test::TempDir dir;
  test::TestLoop loop;
  {
    PoolFileSaver saver(loop.get());
    std::string path = dir.file("missing/offsets");
    saver.save(path, "lost");
    REQUIRE(loop.run_until([&] { return saver.busy() == 0; }));
    CHECK_FALSE(read_file(path).ok());
    REQUIRE(make_dirs(dir.file("missing")).ok());
    saver.save(path, "saved");
    REQUIRE(loop.run_until([&] { return saver.busy() == 0; }));
    CHECK(read_file(path).value() == "saved");
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("file saver's flush at exit writes what still waits, never an older save last",
          "[services]") {
  test::TempDir dir;
  test::TestLoop loop;
  {
    PoolFileSaver saver(loop.get());
    std::string path = dir.file("offsets");
    saver.save(path, "older");  // running on the pool, maybe not yet written
    saver.save(path, "newest");
    saver.flush();
    CHECK(read_file(path).value() == "newest");
    CHECK(saver.busy() == 0);
    // The older save may still finish on the pool: it must not win.
    loop.run_until([] { return false; }, std::chrono::milliseconds(200));
    CHECK(read_file(path).value() == "newest");
  }
  CHECK(loop.close() == 0);
}

}  // namespace
}  // namespace vigil
