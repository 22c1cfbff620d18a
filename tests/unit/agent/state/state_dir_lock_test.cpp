#include "agent/state/state_dir_lock.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

// Whether another process can take the lock (fcntl locks belong to a process:
// this one could always take its own again).
bool another_process_can_lock(const std::string& dir) {
  pid_t pid = fork();
  if (pid == 0) {
    _exit(StateDirLock::acquire(dir).ok() ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_CASE("state_dir lock is made with its folders and keeps a second agent out", "[state]") {
  test::TempDir tmp;
  std::string dir = tmp.file("var/lib/vigil");
  std::optional<StateDirLock> lock;
  {
    auto taken = StateDirLock::acquire(dir);
    REQUIRE(taken.ok());
    lock.emplace(std::move(taken).value());
  }
  struct stat st {};
  REQUIRE(stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0750);
  CHECK_FALSE(another_process_can_lock(dir));
  lock.reset();
  CHECK(another_process_can_lock(dir));
}

TEST_CASE("state_dir lock names what is in the way", "[state]") {
  test::TempDir tmp;
  std::string file = tmp.write("not-a-folder", "x");
  auto taken = StateDirLock::acquire(file);
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().find("not-a-folder") != std::string::npos);
}

}  // namespace
}  // namespace vigil
