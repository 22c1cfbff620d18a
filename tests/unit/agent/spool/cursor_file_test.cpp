#include "agent/spool/cursor_file.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs.h"

namespace vigil {
namespace {

size_t count_files_starting(const std::string& dir, const std::string& prefix) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) {
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("a new cursor file starts at nothing acknowledged", "[spool]") {
  test::TempDir tmp;
  CursorFile c;
  bool corrupt = true;
  auto pos = c.open(tmp.file("cursor"), {}, &corrupt);
  REQUIRE(pos.ok());
  CHECK(pos.value() == SpoolPosition{0, 0});
  CHECK_FALSE(corrupt);
  CHECK(std::filesystem::file_size(tmp.file("cursor")) == 4096);
}

TEST_CASE("the last stored cursor is read back, also after the slots wrap", "[spool]") {
  test::TempDir tmp;
  int stores = GENERATE(1, 127, 128, 300);
  {
    CursorFile c;
    bool corrupt = false;
    REQUIRE(c.open(tmp.file("cursor"), {}, &corrupt).ok());
    for (int i = 1; i <= stores; ++i) {
      REQUIRE(c.store({static_cast<uint64_t>(i / 10 + 1), static_cast<uint64_t>(i)}).ok());
    }
  }
  CursorFile again;
  bool corrupt = true;
  auto pos = again.open(tmp.file("cursor"), {}, &corrupt);
  REQUIRE(pos.ok());
  CHECK_FALSE(corrupt);
  CHECK(pos.value() ==
        SpoolPosition{static_cast<uint64_t>(stores / 10 + 1), static_cast<uint64_t>(stores)});
  CHECK(std::filesystem::file_size(tmp.file("cursor")) == 4096);
}

TEST_CASE("a torn newest slot falls back to the one before it", "[spool]") {
  test::TempDir tmp;
  {
    CursorFile c;
    bool corrupt = false;
    REQUIRE(c.open(tmp.file("cursor"), {}, &corrupt).ok());
    REQUIRE(c.store({3, 100}).ok());  // slot 1
    REQUIRE(c.store({3, 200}).ok());  // slot 2
  }
  std::string bytes = read_file(tmp.file("cursor")).value();
  bytes[2 * 32 + 20] ^= 0x40;
  tmp.write("cursor", bytes);
  CursorFile again;
  bool corrupt = true;
  auto pos = again.open(tmp.file("cursor"), {}, &corrupt);
  REQUIRE(pos.ok());
  CHECK_FALSE(corrupt);
  CHECK(pos.value() == SpoolPosition{3, 100});
}

TEST_CASE("an unreadable cursor file is moved aside and replaced", "[spool]") {
  test::TempDir tmp;
  std::string junk = GENERATE(std::string(""), std::string("garbage"), std::string(4096, 'x'));
  tmp.write("cursor", junk);
  CursorFile c;
  bool corrupt = false;
  auto pos = c.open(tmp.file("cursor"), {}, &corrupt);
  REQUIRE(pos.ok());
  CHECK(corrupt);
  CHECK(pos.value() == SpoolPosition{0, 0});
  CHECK(count_files_starting(tmp.path(), "cursor.corrupt-") == 1);
  REQUIRE(c.store({5, 16}).ok());
}

TEST_CASE("a failed cursor sync is reported", "[spool]") {
  test::TempDir tmp;
  CursorFile c;
  bool corrupt = false;
  auto fail_sync = [](int) {
    errno = EIO;
    return -1;
  };
  REQUIRE(c.open(tmp.file("cursor"), fail_sync, &corrupt).ok());
  Status st = c.store({1, 16});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().find("fsync") != std::string::npos);
}

}  // namespace vigil

namespace vigil {
namespace {

TEST_CASE("a cursor file that cannot be made on a full disk lives in memory until it can",
          "[spool][tmpfs]") {
  test::TempDir tmp;
  std::string mnt = tmp.file("fs");
  REQUIRE(make_dirs(mnt).ok());
  test::Tmpfs disk(mnt, "256k");
  if (!disk.mounted()) {
    WARN("not root: no tmpfs, the full-disk case is not tested here");
    return;
  }
  disk.fill();
  CursorFile c;
  bool corrupt = true;
  auto pos = c.open(mnt + "/cursor", {}, &corrupt);
  REQUIRE(pos.ok());  // the agent starts on a full disk
  CHECK(pos.value() == SpoolPosition{0, 0});
  CHECK_FALSE(std::filesystem::exists(mnt + "/cursor"));
  CHECK(c.store(SpoolPosition{1, 100}).ok());  // kept in memory
  disk.free_filler();
  CHECK(c.store(SpoolPosition{1, 200}).ok());  // made now
  REQUIRE(std::filesystem::exists(mnt + "/cursor"));
  CursorFile again;
  auto read = again.open(mnt + "/cursor", {}, &corrupt);
  REQUIRE(read.ok());
  CHECK(read.value() == SpoolPosition{1, 200});
}

}  // namespace
}  // namespace vigil
