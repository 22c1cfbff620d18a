#include "agent/util/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Sets the umask for one test and restores it.
class Umask {
 public:
  explicit Umask(mode_t m) : old_(umask(m)) {}
  ~Umask() { umask(old_); }

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("write_file_atomic creates and replaces a file and leaves no temp file", "[fs]") {
  test::TempDir dir;
  std::string path = dir.file("state.json");
  REQUIRE(write_file_atomic(path, "first version, rather long\n").ok());
  CHECK(read_file(path).value() == "first version, rather long\n");
  REQUIRE(write_file_atomic(path, "second").ok());
  CHECK(read_file(path).value() == "second");
  REQUIRE(write_file_atomic(path, "").ok());
  CHECK(read_file(path).value().empty());
  CHECK(names_in(dir.path()) == std::set<std::string>{"state.json"});
}

TEST_CASE("write_file_atomic fails cleanly and leaves no temp file", "[fs]") {
  test::TempDir dir;
  SECTION("the folder does not exist") {
    Status s = write_file_atomic(dir.file("missing/state.json"), "x");
    CHECK_FALSE(s.ok());
    CHECK(s.error().find("missing") != std::string::npos);
    CHECK(names_in(dir.path()).empty());
  }
  SECTION("the target is a folder") {
    REQUIRE(make_dirs(dir.file("taken")).ok());
    Status s = write_file_atomic(dir.file("taken"), "x");
    CHECK_FALSE(s.ok());
    CHECK(names_in(dir.path()) == std::set<std::string>{"taken"});
  }
}

TEST_CASE("read_file reads a whole file and reports errors", "[fs]") {
  test::TempDir dir;
  std::string big(200000, 'x');
  big[123456] = 'y';
  std::string path = dir.write("big", big);
  CHECK(read_file(path).value() == big);
  CHECK_FALSE(read_file(path, 1000).ok());
  CHECK_FALSE(read_file(dir.file("absent")).ok());
}

TEST_CASE("make_dirs creates every level with the given mode", "[fs]") {
  test::TempDir dir;
  Umask mask(022);
  REQUIRE(make_dirs(dir.file("a/b/c"), 0700).ok());
  CHECK(mode_of(dir.file("a")) == 0700);
  CHECK(mode_of(dir.file("a/b")) == 0700);
  CHECK(mode_of(dir.file("a/b/c")) == 0700);
  // Existing folders keep their mode; a trailing slash is fine.
  REQUIRE(make_dirs(dir.file("a/b/d/"), 0750).ok());
  CHECK(mode_of(dir.file("a/b")) == 0700);
  CHECK(mode_of(dir.file("a/b/d")) == 0750);
  CHECK(make_dirs(dir.file("a/b/c"), 0750).ok());
}

TEST_CASE("make_dirs fails when a file is in the way", "[fs]") {
  test::TempDir dir;
  dir.write("file", "x");
  CHECK_FALSE(make_dirs(dir.file("file")).ok());
  CHECK_FALSE(make_dirs(dir.file("file/sub")).ok());
}

TEST_CASE("move_aside renames a broken file out of the way", "[fs]") {
  test::TempDir dir;
  std::string path = dir.write("state.json", "{broken");
  std::string to = move_aside(path);
  CHECK(to.rfind(path + ".corrupt-", 0) == 0);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(read_file(to).value() == "{broken");
}

}  // namespace vigil
