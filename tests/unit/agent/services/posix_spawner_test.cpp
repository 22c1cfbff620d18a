#include "agent/services/posix_spawner.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"
#include "tests/unit/agent/services/process_exit.h"

namespace vigil {
namespace {

const std::vector<std::string> kEnv = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"};

std::string script(const test::TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.write(name, "#!/bin/sh\n" + body);
  chmod(path.c_str(), 0755);
  return path;
}

// Runs one request on a fresh loop and returns what the spawner reported.
struct Outcome {
  std::optional<SpawnResult> result;
  std::chrono::milliseconds took{0};
  int loop_close = -1;
};

Outcome run_one(const SpawnRequest& request) {
  test::TestLoop loop;
  Outcome out;
  auto start = std::chrono::steady_clock::now();
  {
    PosixSpawner spawner(loop.get());
    spawner.run(request, [&](SpawnResult r) { out.result = std::move(r); });
    loop.run_until([&] { return out.result.has_value(); });
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    CHECK(spawner.running() == 0);
  }
  out.loop_close = loop.close();
  return out;
}

}  // namespace

TEST_CASE("spawner reports exit code and stdout of a command", "[exec]") {
  test::TempDir dir;
  SpawnRequest req;
  req.argv = {script(dir, "ok.sh", "echo hello \"$1\"\necho to-stderr >&2\nexit 3\n"), "world"};
  req.env = kEnv;
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK(out.result->error.empty());
  CHECK(out.result->exit_code == 3);
  CHECK_FALSE(out.result->signal);
  CHECK_FALSE(out.result->timed_out);
  CHECK(out.result->output == "hello world\n");  // stderr is not captured
  CHECK(out.result->pid > 0);
  CHECK(out.loop_close == 0);
}

TEST_CASE("spawner finds a bare command name in the PATH it is given", "[exec]") {
  SpawnRequest req;
  req.argv = {"echo", "found"};
  req.env = kEnv;
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK(out.result->exit_code == 0);
  CHECK(out.result->output == "found\n");
  CHECK(out.loop_close == 0);
}

TEST_CASE("spawner reports a command that cannot start as an error", "[exec]") {
  test::TempDir dir;
  SpawnRequest req;
  req.env = kEnv;
  // A missing file, a file that is not executable, an unknown name.
  const int which = GENERATE(0, 1, 2);
  if (which == 0) {
    req.argv = {dir.file("missing")};
  } else if (which == 1) {
    req.argv = {dir.write("plain.sh", "#!/bin/sh\necho no\n")};
  } else {
    req.argv = {"vigil-no-such-command-here"};
  }
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK_FALSE(out.result->error.empty());
  CHECK(out.result->error.find(req.argv[0]) != std::string::npos);
  CHECK_FALSE(out.result->exit_code);
  CHECK(out.loop_close == 0);
}

TEST_CASE("spawner gives stdin from dev null and exactly the environment asked for", "[exec]") {
  test::TempDir dir;
  SpawnRequest req;
  req.argv = {script(dir, "env.sh",
                     "if read line; then echo \"read $line\"; else echo eof; fi\n"
                     "readlink /proc/$$/fd/0\n"
                     "tr '\\0' '\\n' < /proc/$$/environ\n")};
  req.env = kEnv;
  Outcome out = run_one(req);
  REQUIRE(out.result);
  REQUIRE(out.result->exit_code == 0);
  std::istringstream lines(out.result->output);
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) {
    got.push_back(line);
  }
  REQUIRE(got.size() >= 2);
  CHECK(got[0] == "eof");
  CHECK(got[1] == "/dev/null");
  std::vector<std::string> env(got.begin() + 2, got.end());
  std::vector<std::string> want = kEnv;
  std::sort(env.begin(), env.end());
  std::sort(want.begin(), want.end());
  CHECK(env == want);
}

TEST_CASE("spawner keeps 64 KiB of output and drains the rest", "[exec]") {
  test::TempDir dir;
  SpawnRequest req;
  // 1 MiB: far more than a pipe buffer, so a reader that stopped would hang it.
  req.argv = {script(dir, "big.sh", "head -c 1048576 /dev/zero | tr '\\0' x\nexit 0\n")};
  req.env = kEnv;
  req.output_cap = 64 * 1024;
  req.timeout = std::chrono::seconds(10);
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK(out.result->exit_code == 0);
  CHECK_FALSE(out.result->timed_out);
  CHECK(out.result->output.size() == 65536);
  CHECK(out.result->output_dropped == 1048576 - 65536);
  CHECK(out.result->output.find_first_not_of('x') == std::string::npos);
  CHECK(out.loop_close == 0);
}

TEST_CASE("spawner terminates the whole process group at the timeout", "[exec]") {
  test::TempDir dir;
  std::string child_pid_file = dir.file("child.pid");
  SpawnRequest req;
  // The sleep is a child of the script: killing the script alone would leave it.
  req.argv = {
      script(dir, "hang.sh", "echo started\nsh -c 'exec sleep 30' &\necho $! > \"$1\"\nwait\n"),
      child_pid_file};
  req.env = kEnv;
  req.timeout = std::chrono::milliseconds(300);
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK(out.result->timed_out);
  CHECK(out.result->signal == SIGTERM);
  CHECK_FALSE(out.result->exit_code);
  CHECK(out.result->output == "started\n");
  CHECK(out.took < std::chrono::seconds(5));
  auto pid_text = read_file(child_pid_file);
  REQUIRE(pid_text.ok());
  int child = std::stoi(pid_text.value());
  CHECK(test::wait_exited(out.result->pid));
  CHECK(test::wait_exited(child));
  CHECK(out.loop_close == 0);
}

TEST_CASE("spawner kills a group that ignores SIGTERM a second later", "[exec]") {
  test::TempDir dir;
  SpawnRequest req;
  req.argv = {script(dir, "stubborn.sh", "trap '' TERM\nsleep 30 &\nwait\n")};
  req.env = kEnv;
  req.timeout = std::chrono::milliseconds(200);
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK(out.result->timed_out);
  CHECK(out.result->signal == SIGKILL);
  CHECK(out.took >= std::chrono::milliseconds(1000));  // the second stage waited
  CHECK(out.took < std::chrono::seconds(5));
  CHECK(test::wait_exited(out.result->pid));
  CHECK(out.loop_close == 0);
}

TEST_CASE("spawner kills background children left holding stdout after the command exits",
          "[exec]") {
  test::TempDir dir;
  std::string child_pid_file = dir.file("child.pid");
  SpawnRequest req;
  req.argv = {script(dir, "leak.sh", "sleep 30 &\necho $! > \"$1\"\necho done\nexit 0\n"),
              child_pid_file};
  req.env = kEnv;
  req.timeout = std::chrono::seconds(10);
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK(out.result->exit_code == 0);
  CHECK_FALSE(out.result->timed_out);
  CHECK(out.result->output == "done\n");
  CHECK(out.took < std::chrono::seconds(5));
  auto pid_text = read_file(child_pid_file);
  REQUIRE(pid_text.ok());
  CHECK(test::wait_exited(std::stoi(pid_text.value())));
  CHECK(out.loop_close == 0);
}

TEST_CASE("spawner destroyed with a run in flight kills it and calls nothing", "[exec]") {
  test::TempDir dir;
  test::TestLoop loop;
  std::string pid_file = dir.file("self.pid");
  bool called = false;
  {
    PosixSpawner spawner(loop.get());
    SpawnRequest req;
    req.argv = {script(dir, "wait.sh", "echo $$ > \"$1\"\nexec sleep 30\n"), pid_file};
    req.env = kEnv;
    spawner.run(req, [&](SpawnResult) { called = true; });
    CHECK(spawner.running() == 1);
    loop.run_until([&] { return read_file(pid_file).ok() && !read_file(pid_file)->empty(); });
  }
  CHECK(loop.close() == 0);
  CHECK_FALSE(called);
  auto pid_text = read_file(pid_file);
  REQUIRE(pid_text.ok());
  int pid = std::stoi(pid_text.value());
  CHECK(test::wait_exited(pid));
}

TEST_CASE("spawned commands inherit no descriptor above stderr", "[exec]") {
  // Descriptors opened without close-on-exec, as libcurl 7.88 opens its
  // sockets: a command must see none of them.
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  int sockets[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) == 0);
  SpawnRequest req;
  req.argv = {"ls", "-l", "/proc/self/fd"};
  req.env = kEnv;
  Outcome out = run_one(req);
  for (int fd : {pipe_fds[0], pipe_fds[1], sockets[0], sockets[1]}) {
    close(fd);
  }
  REQUIRE(out.result);
  REQUIRE(out.result->exit_code == 0);
  std::istringstream lines(out.result->output);
  std::string line;
  std::vector<int> seen;
  while (std::getline(lines, line)) {
    size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) {
      continue;  // "total 0"
    }
    size_t name = line.rfind(' ', arrow - 1) + 1;
    int fd = std::stoi(line.substr(name, arrow - name));
    std::string target = line.substr(arrow + 4);
    INFO(out.result->output);
    // Past stderr, only the folder ls itself opened to list.
    CHECK((fd <= 2 || target.rfind("/proc/", 0) == 0));
    seen.push_back(fd);
  }
  std::sort(seen.begin(), seen.end());
  CHECK(seen.size() <= 4);
  REQUIRE(seen.size() >= 3);
  CHECK(seen[0] == 0);
  CHECK(seen[1] == 1);
  CHECK(seen[2] == 2);
}

}  // namespace vigil

namespace vigil {
namespace {

// The named line of /proc/PID/status in a command's output ("SigIgn:\t...").
std::string status_line(const std::string& output, const std::string& name) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      return line.substr(line.find_first_not_of(" \t", name.size() + 1));
    }
  }
  return "";
}

}  // namespace

TEST_CASE("spawned commands start with default signal dispositions and an empty mask", "[exec]") {
  // The agent ignores SIGPIPE; a command that writes to a closed pipe must
  // still die of it, as it would from a shell. The loop thread's mask is
  // not the command's either.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  REQUIRE(sigaction(SIGPIPE, &ignore, &old_pipe) == 0);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t old_mask;
  REQUIRE(pthread_sigmask(SIG_BLOCK, &usr1, &old_mask) == 0);
  SpawnRequest req;
  req.argv = {"cat", "/proc/self/status"};
  req.env = kEnv;
  Outcome out = run_one(req);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  REQUIRE(out.result);
  REQUIRE(out.result->exit_code == 0);
  CHECK(status_line(out.result->output, "SigIgn") == "0000000000000000");
  CHECK(status_line(out.result->output, "SigBlk") == "0000000000000000");
}

TEST_CASE("spawner runs a script without a #! line with /bin/sh, as execvp does", "[exec]") {
  test::TempDir dir;
  std::string path = dir.write("bare", "echo from-sh \"$1\"\nexit 1\n");
  chmod(path.c_str(), 0755);
  SpawnRequest req;
  req.argv = {path, "arg"};
  req.env = kEnv;
  Outcome out = run_one(req);
  REQUIRE(out.result);
  CHECK(out.result->error.empty());
  CHECK(out.result->exit_code == 1);
  CHECK(out.result->output == "from-sh arg\n");
}

TEST_CASE("spawner searches past a PATH folder whose file may not be run", "[exec]") {
  test::TempDir dir;
  mkdir(dir.file("a").c_str(), 0755);
  mkdir(dir.file("b").c_str(), 0755);
  dir.write("a/tool", "#!/bin/sh\necho from-a\n");  // not executable
  SpawnRequest req;
  req.argv = {"tool"};
  req.env = {"PATH=" + dir.file("a") + ":" + dir.file("b")};
  SECTION("a later folder has it") {
    std::string b = dir.write("b/tool", "#!/bin/sh\necho from-b\n");
    chmod(b.c_str(), 0755);
    Outcome out = run_one(req);
    REQUIRE(out.result);
    CHECK(out.result->output == "from-b\n");
  }
  SECTION("no folder has it runnable: the error says why") {
    Outcome out = run_one(req);
    REQUIRE(out.result);
    CHECK_FALSE(out.result->exit_code);
    CHECK(out.result->error == "cannot run tool: Permission denied");
  }
}

TEST_CASE("spawner reaps every one of many commands that exit at once", "[exec]") {
  // SIGCHLD coalesces: one signal may stand for many exits, and none may be
  // left a zombie or unreported.
  test::TestLoop loop;
  std::vector<SpawnResult> results;
  {
    PosixSpawner spawner(loop.get());
    SpawnRequest req;
    req.argv = {"true"};
    req.env = kEnv;
    for (int i = 0; i < 32; ++i) {
      spawner.run(req, [&](SpawnResult r) { results.push_back(std::move(r)); });
    }
    loop.run_until([&] { return results.size() == 32; });
    CHECK(spawner.running() == 0);
  }
  CHECK(loop.close() == 0);
  REQUIRE(results.size() == 32);
  for (const SpawnResult& r : results) {
    CHECK(r.exit_code == 0);
    // Reaped by the spawner: no zombie is left for anyone to wait for.
    errno = 0;
    CHECK(waitpid(r.pid, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);
  }
}

}  // namespace vigil
