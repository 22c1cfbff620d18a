#include "agent/state/slot_file.h"

#include <errno.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs.h"

namespace vigil {
namespace {

using test::TempDir;
using Outcome = SlotFile::Outcome;

std::optional<std::string> reload(const std::string& base) {
  SlotFile f(base);
  return f.load().document;
}

void flip_byte(const std::string& path, off_t at) {
  std::string bytes = read_file(path).value();
  bytes[static_cast<size_t>(at)] ^= 0x5A;
  FILE* f = fopen(path.c_str(), "r+b");
  REQUIRE(f != nullptr);
  fseek(f, at, SEEK_SET);
  fputc(static_cast<unsigned char>(bytes[static_cast<size_t>(at)]), f);
  fclose(f);
}

TEST_CASE("slot file keeps the newest of two slots across a restart", "[state]") {
  TempDir dir;
  std::string base = dir.file("state");
  {
    SlotFile f(base);
    CHECK_FALSE(f.load().document.has_value());
    REQUIRE(f.save("first").outcome == Outcome::kOk);
    REQUIRE(f.save("second").outcome == Outcome::kOk);
    REQUIRE(f.save("third").outcome == Outcome::kOk);
  }
  CHECK(reload(base) == "third");
  SlotFile again(base);
  REQUIRE(again.load().document == "third");
  REQUIRE(again.save("fourth").outcome == Outcome::kOk);
  CHECK(reload(base) == "fourth");
}

TEST_CASE("slot file preallocates both slots so that saves need no new blocks", "[state]") {
  TempDir dir;
  std::string base = dir.file("state");
  SlotFile f(base);
  REQUIRE(f.save("a").outcome == Outcome::kOk);
  REQUIRE(f.save("b").outcome == Outcome::kOk);
  for (int slot = 0; slot < 2; ++slot) {
    struct stat st {};
    REQUIRE(stat(SlotFile::slot_path(base, slot).c_str(), &st) == 0);
    CHECK(st.st_size >= 64 * 1024);
    CHECK(static_cast<uint64_t>(st.st_blocks) * 512 >= 64 * 1024);  // allocated, not sparse
  }
  // A document past half of the reserve grows it while the disk has room.
  std::string big(100 * 1024, 'x');
  REQUIRE(f.save(big).outcome == Outcome::kOk);
  CHECK(f.capacity(1) >= 2 * big.size());
  CHECK(reload(base) == big);
}

TEST_CASE("slot file falls back to the previous document when the newest slot is torn", "[state]") {
  TempDir dir;
  std::string base = dir.file("state");
  {
    SlotFile f(base);
    REQUIRE(f.save("older").outcome == Outcome::kOk);  // generation 1: slot 1
    REQUIRE(f.save("newer").outcome == Outcome::kOk);  // generation 2: slot 0
  }
  const off_t where = GENERATE(8, 20, 32 + 2);  // generation, length, document
  flip_byte(SlotFile::slot_path(base, 0), where);
  SlotFile f(base);
  SlotFile::Loaded loaded = f.load();
  CHECK(loaded.document == "older");
  CHECK(loaded.set_aside.empty());
  // The next save goes to the torn slot, never over the good one.
  REQUIRE(f.save("next").outcome == Outcome::kOk);
  CHECK(reload(base) == "next");
}

TEST_CASE("slot file sets both slots aside when neither holds a valid document", "[state]") {
  TempDir dir;
  std::string base = dir.file("state");
  {
    SlotFile f(base);
    REQUIRE(f.save("one").outcome == Outcome::kOk);
    REQUIRE(f.save("two").outcome == Outcome::kOk);
  }
  flip_byte(SlotFile::slot_path(base, 0), 33);
  flip_byte(SlotFile::slot_path(base, 1), 33);
  SlotFile f(base);
  SlotFile::Loaded loaded = f.load();
  CHECK_FALSE(loaded.document.has_value());
  REQUIRE(loaded.set_aside.size() == 2);
  for (const std::string& aside : loaded.set_aside) {
    CHECK(aside.find(".corrupt-") != std::string::npos);
    CHECK(std::filesystem::exists(aside));
  }
  REQUIRE(f.save("fresh").outcome == Outcome::kOk);
  CHECK(reload(base) == "fresh");
}

TEST_CASE("slot file reports a failed fdatasync as fatal", "[state]") {
  TempDir dir;
  std::string base = dir.file("state");
  bool fail = false;
  SlotFile f(base, [&fail](int fd) {
    if (fail) {
      errno = EIO;
      return -1;
    }
    return fdatasync(fd);
  });
  REQUIRE(f.save("good").outcome == Outcome::kOk);
  fail = true;
  SlotFile::SaveResult r = f.save("lost");
  CHECK(r.outcome == Outcome::kFailed);
  CHECK(r.error.find("fdatasync") != std::string::npos);
}

TEST_CASE("slot file still saves on a full disk, within what it reserved", "[state]") {
  TempDir dir;
  std::string mnt = dir.file("disk");
  REQUIRE(make_dirs(mnt).ok());
  test::Tmpfs disk(mnt, "2m");
  if (!disk.mounted()) {
    WARN("not root: no tmpfs, the full-disk case is not tested here");
    return;
  }
  std::string base = mnt + "/state";
  SlotFile f(base);
  REQUIRE(f.save("before the disk filled").outcome == Outcome::kOk);
  REQUIRE(f.save("both slots reserved").outcome == Outcome::kOk);
  disk.fill();
  for (int i = 0; i < 10; ++i) {
    std::string doc = "on a full disk " + std::to_string(i) + std::string(20000, 'x');
    REQUIRE(f.save(doc).outcome == Outcome::kOk);
    CHECK(reload(base) == doc);
  }
  // More than the reserve cannot be saved; nothing is lost: the last one stays.
  std::optional<std::string> last = reload(base);
  SlotFile::SaveResult r = f.save(std::string(300 * 1024, 'y'));
  CHECK(r.outcome == Outcome::kNoSpace);
  CHECK(r.error.find("No space left") != std::string::npos);
  CHECK(reload(base) == last);
  // Space returns: saves work again, with no restart.
  disk.free_filler();
  std::string big(300 * 1024, 'z');
  REQUIRE(f.save(big).outcome == Outcome::kOk);
  CHECK(reload(base) == big);
}

}  // namespace
}  // namespace vigil
