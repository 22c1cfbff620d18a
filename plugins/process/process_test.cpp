#include "plugins/process/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <thread>

#include "agent/plugin/process_table.h"
#include "agent/services/process_table_proc.h"
#include "agent/util/fs.h"
#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/agent/services/process_exit.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& name) {
  return test::source_dir() + "/plugins/process/testdata/" + name;
}

Section process_section(const test::KeyLines& keys) {
  return test::make_section("process", keys, "/etc/vigil/vigil.ini", 10, "p");
}

Result<std::unique_ptr<Collector>> make(const Section& s) {
  return kProcessPlugin.create(PluginConfig{s, s.name, "/proc", "/sys"});
}

std::unique_ptr<Collector> make_ok(std::vector<std::pair<std::string, std::string>> keys) {
  auto r = make(process_section(std::move(keys)));
  REQUIRE(r.ok());
  return std::move(r.value());
}

const MonotonicTime kT0 = MonotonicTime(std::chrono::hours(100));

CollectContext context(const std::string& procfs, MonotonicTime now, bool once = false) {
  CollectContext ctx;
  ctx.procfs = procfs;
  ctx.now = now;
  ctx.interval = Duration(10000);
  ctx.once = once;
  return ctx;
}

Sample read_ok(Collector& c, const CollectContext& ctx) {
  auto r = c.read(ctx);
  REQUIRE(r.ok());
  return r.value();
}

double metric(const Sample& s, std::string_view name) {
  const double* v = s.find(name);
  REQUIRE(v != nullptr);
  return *v;
}

std::vector<std::string> names(const Sample& s) {
  std::vector<std::string> out;
  for (const auto& [k, v] : s.metrics) {
    out.push_back(k);
  }
  return out;
}

// A stat line with the fields the scan reads; the rest are plausible fillers.
std::string stat_line(int pid, const std::string& comm, char state, uint64_t cpu_ticks,
                      uint64_t start_ticks) {
  return std::to_string(pid) + " (" + comm + ") " + state + " 1 1 1 0 -1 0 0 0 0 0 " +
         std::to_string(cpu_ticks) + " 0 0 0 20 0 1 0 " + std::to_string(start_ticks) +
         " 1000 10 0\n";
}

// A private copy of a fixture tree, for tests that change it between scans.
std::string copy_fixture(const test::TempDir& dir, const std::string& name) {
  std::string to = dir.file("proc");
  fs::copy(fixture(name), to, fs::copy_options::recursive);
  return to;
}

// A copy of sleep under a unique name, so that no other process on the host
// can match it.
class SleepBinary {
 public:
  explicit SleepBinary(const test::TempDir& dir) {
    std::random_device rd;
    char suffix[16];
    snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rd()));
    name_ = std::string("vigilt_") + suffix;  // 15 bytes: the whole of comm
    path_ = dir.file(name_);
    fs::copy_file("/bin/sleep", path_);
    fs::permissions(path_, fs::perms::owner_all);
  }
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }

  // Starts it detached (double fork): not a child of this process, which a
  // process check never counts (the agent and its children are excluded).
  int start_detached() const {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    pid_t middle = fork();
    REQUIRE(middle >= 0);
    if (middle == 0) {
      setsid();
      pid_t grandchild = fork();
      if (grandchild == 0) {
        execl(path_.c_str(), path_.c_str(), "300", static_cast<char*>(nullptr));
        _exit(127);
      }
      (void)!write(fds[1], &grandchild, sizeof grandchild);
      _exit(0);
    }
    close(fds[1]);
    pid_t pid = 0;
    REQUIRE(read(fds[0], &pid, sizeof pid) == static_cast<ssize_t>(sizeof pid));
    close(fds[0]);
    waitpid(middle, nullptr, 0);
    started_.push_back(pid);
    wait_running(pid);
    return pid;
  }

  // Starts it as a direct child of this process.
  int start_child() const {
    const char* argv[] = {path_.c_str(), "300", nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, path_.c_str(), nullptr, nullptr, const_cast<char**>(argv), environ) ==
            0);
    children_.push_back(pid);
    wait_running(pid);
    return pid;
  }

  ~SleepBinary() {
    for (int pid : started_) {
      kill(pid, SIGKILL);
    }
    for (int pid : children_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }

 private:
  // Until exec is done, the child still bears its parent's comm.
  void wait_running(int pid) const {
    std::string want = name_ + "\n";
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      auto comm = read_file("/proc/" + std::to_string(pid) + "/comm");
      if (comm.ok() && comm.value() == want) {
        return;
      }
      sched_yield();
    }
    FAIL("process " << pid << " did not start");
  }

  std::string name_;
  std::string path_;
  mutable std::vector<int> started_;
  mutable std::vector<int> children_;
};

}  // namespace

TEST_CASE("process create needs at least one criterion, reported at the header", "[process]") {
  auto r = make(process_section({{"window", "5m"}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error_info().line == 10);
  CHECK(r.error_info().file == "/etc/vigil/vigil.ini");
}

TEST_CASE("process create rejects bad values at their line", "[process]") {
  auto [key, value] = GENERATE(table<std::string, std::string>({
      {"name", "sixteen_bytes_xx"},
      {"name", ""},
      {"cmdline", "([unclosed"},
      {"user", "99999999999"},
      {"pidfile", ""},
  }));
  auto r = make(process_section({{"window", "1m"}, {key, value}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error_info().line == 12);
}

TEST_CASE("process create accepts each criterion alone", "[process]") {
  CHECK(make(process_section({{"name", "fifteen_bytes_x"}})).ok());
  CHECK(make(process_section({{"cmdline", "nginx: master"}})).ok());
  CHECK(make(process_section({{"pidfile", "/run/nonexistent.pid"}})).ok());
  CHECK(make(process_section({{"user", "www-data"}})).ok());
  CHECK(make(process_section({{"user", "33"}})).ok());
}

TEST_CASE("process metrics sum the matching processes and skip zombies", "[process]") {
  auto c = make_ok({{"name", "worker"}});
  Sample s = read_ok(*c, context(fixture("odd/proc"), kT0, true));
  CHECK(names(s) == std::vector<std::string>{"count", "cpu_percent", "rss_bytes", "fds", "threads",
                                             "zombies", "restarts", "uptime_seconds"});
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  CHECK(metric(s, "count") == 2);
  CHECK(metric(s, "zombies") == 1);
  CHECK(metric(s, "threads") == 1 + 2);
  CHECK(metric(s, "rss_bytes") == (200 + 300) * page);
  CHECK(metric(s, "fds") == 4 + 2);
  CHECK(metric(s, "restarts") == 0);
  // The oldest worker started at 60000 ticks; the host is up 1000 s.
  CHECK(metric(s, "uptime_seconds") == Approx(1000 - 60000 / tck));
  // `once`: each process's average since it started.
  double expected = 100 * (50 / tck / (1000 - 60000 / tck) + 10 / tck / (1000 - 90000 / tck));
  CHECK(metric(s, "cpu_percent") == Approx(expected));
}

TEST_CASE("process name matches a comm with spaces and parentheses", "[process]") {
  auto c = make_ok({{"name", "(a b) c)"}});
  Sample s = read_ok(*c, context(fixture("odd/proc"), kT0, true));
  CHECK(metric(s, "count") == 1);
  CHECK(metric(s, "threads") == 3);
  CHECK(metric(s, "fds") == 3);
}

TEST_CASE("process fds are absent when a matching fd table cannot be read", "[process]") {
  auto c = make_ok({{"name", "locked"}});
  Sample s = read_ok(*c, context(fixture("odd/proc"), kT0, true));
  CHECK(metric(s, "count") == 1);
  CHECK(s.find("fds") == nullptr);
  CHECK(s.find("rss_bytes") != nullptr);
}

TEST_CASE("process cmdline regex, user and name must all hold", "[process]") {
  auto count = [](std::vector<std::pair<std::string, std::string>> keys) {
    auto c = make_ok(std::move(keys));
    Sample s = read_ok(*c, context(fixture("odd/proc"), kT0, true));
    return metric(s, "count");
  };
  CHECK(count({{"cmdline", "--queue (mail|web)"}}) == 2);
  CHECK(count({{"cmdline", "--queue web$"}}) == 1);
  CHECK(count({{"cmdline", "^/usr/bin/odd "}}) == 1);
  CHECK(count({{"user", "33"}}) == 2);
  CHECK(count({{"user", "0"}}) == 1);
  CHECK(count({{"user", "root"}}) == 1);
  CHECK(count({{"user", "33"}, {"name", "worker"}}) == 2);
  CHECK(count({{"user", "0"}, {"name", "worker"}}) == 0);
  CHECK(count({{"name", "worker"}, {"cmdline", "mail"}}) == 1);
  CHECK(count({{"name", "nosuch"}}) == 0);
}

TEST_CASE("process user names that do not exist fail the collection", "[process]") {
  auto c = make_ok({{"user", "vigil-no-such-user"}});
  auto r = c->read(context(fixture("odd/proc"), kT0, true));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("vigil-no-such-user") != std::string::npos);
}

TEST_CASE("process pidfile selects the process it names", "[process]") {
  test::TempDir dir;
  std::string pidfile = dir.file("app.pid");
  auto c = make_ok({{"pidfile", pidfile}});
  auto ctx = context(fixture("odd/proc"), kT0, true);

  SECTION("a pid of a live process") {
    dir.write("app.pid", "102\n");
    Sample s = read_ok(*c, ctx);
    CHECK(metric(s, "count") == 1);
    CHECK(metric(s, "threads") == 2);
  }
  SECTION("a missing file, garbage, or a pid with no process match nothing") {
    auto content = GENERATE(as<std::string>{}, "", "garbage", "-5", "12abc", "99999", "0");
    if (!content.empty()) {
      dir.write("app.pid", content);
    }
    Sample s = read_ok(*c, ctx);
    CHECK(names(s) == std::vector<std::string>{"count", "zombies", "restarts"});
    CHECK(metric(s, "count") == 0);
  }
}

TEST_CASE("process cpu_percent is the growth of ticks between scans over their distance",
          "[process]") {
  test::TempDir dir;
  std::string proc = copy_fixture(dir, "odd/proc");
  auto c = make_ok({{"name", "locked"}});
  read_ok(*c, context(proc, kT0));
  const double tck = static_cast<double>(sysconf(_SC_CLK_TCK));
  // 2 s of CPU time in 10 s of wall time: 20 % of one CPU.
  dir.write("proc/107/stat", stat_line(107, "locked", 'S', static_cast<uint64_t>(2 * tck), 95000));
  Sample s = read_ok(*c, context(proc, kT0 + Duration(10000)));
  CHECK(metric(s, "cpu_percent") == Approx(20.0));
  // No growth: 0.
  s = read_ok(*c, context(proc, kT0 + Duration(20000)));
  CHECK(metric(s, "cpu_percent") == Approx(0.0));
}

TEST_CASE("process restarts count new oldest processes within the window", "[process]") {
  test::TempDir dir;
  std::string proc = copy_fixture(dir, "odd/proc");
  auto c = make_ok({{"name", "locked"}, {"window", "10m"}});
  MonotonicTime t = kT0;
  auto next = [&](Duration step) {
    t += step;
    return read_ok(*c, context(proc, t));
  };
  CHECK(metric(next(Duration(0)), "restarts") == 0);
  // Same pid, new start time: it was restarted and got the pid back.
  dir.write("proc/107/stat", stat_line(107, "locked", 'S', 0, 96000));
  CHECK(metric(next(Duration(10000)), "restarts") == 1);
  // A gap with none, then a new one: another restart.
  fs::remove_all(proc + "/107");
  Sample gap = next(Duration(10000));
  CHECK(metric(gap, "count") == 0);
  CHECK(metric(gap, "restarts") == 1);
  dir.write("proc/108/stat", stat_line(108, "locked", 'S', 0, 97000));
  CHECK(metric(next(Duration(10000)), "restarts") == 2);
  // A younger second process is no restart.
  dir.write("proc/109/stat", stat_line(109, "locked", 'S', 0, 98000));
  Sample two = next(Duration(10000));
  CHECK(metric(two, "count") == 2);
  CHECK(metric(two, "restarts") == 2);
  // The window forgets them.
  CHECK(metric(next(Duration(10 * 60 * 1000)), "restarts") == 0);
}

TEST_CASE("process checks share one scan through the process table service", "[process]") {
  test::TempDir dir;
  std::string proc = copy_fixture(dir, "odd/proc");
  ProcProcessTable table;
  Services services;
  services.processes = &table;
  auto workers = make_ok({{"name", "worker"}});
  auto locked = make_ok({{"user", "0"}});
  auto by_cmdline = make_ok({{"cmdline", "mail"}});
  for (int round = 0; round < 3; ++round) {
    auto ctx = context(proc, kT0 + Duration(10000) * round);
    ctx.services = &services;
    CHECK(metric(read_ok(*workers, ctx), "count") == 2);
    CHECK(metric(read_ok(*locked, ctx), "count") == 1);
    CHECK(metric(read_ok(*by_cmdline, ctx), "count") == 1);
  }
  // Round 0 scans three times (the uid check, then the cmdline check, needs
  // more than the scan before had); after that one scan a round serves all.
  CHECK(table.scans() == 5);
}

TEST_CASE("process checks see a real process, its death and its restart", "[process]") {
  test::TempDir dir;
  SleepBinary sleeper(dir);
  auto c = make_ok({{"name", sleeper.name()}});
  MonotonicTime t = std::chrono::steady_clock::now();

  int first = sleeper.start_detached();
  // Right after exec the new image may not have a resident page yet (its name is
  // set before its first page fault): read until it has, within a deadline.
  Sample s = read_ok(*c, context("/proc", t));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (metric(s, "rss_bytes") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    s = read_ok(*c, context("/proc", t));
  }
  CHECK(metric(s, "count") == 1);
  CHECK(metric(s, "rss_bytes") > 0);
  CHECK(metric(s, "threads") == 1);
  CHECK(metric(s, "fds") >= 0);
  CHECK(metric(s, "uptime_seconds") >= 0);
  CHECK(metric(s, "uptime_seconds") < 60);
  CHECK(metric(s, "restarts") == 0);

  REQUIRE(kill(first, SIGKILL) == 0);
  REQUIRE(test::wait_exited(first));
  s = read_ok(*c, context("/proc", t + Duration(1000)));
  CHECK(metric(s, "count") == 0);
  CHECK(metric(s, "restarts") == 0);
  CHECK(s.find("uptime_seconds") == nullptr);

  sleeper.start_detached();
  s = read_ok(*c, context("/proc", t + Duration(2000)));
  CHECK(metric(s, "count") == 1);
  CHECK(metric(s, "restarts") == 1);
}

TEST_CASE("process checks never count the agent or its children", "[process]") {
  test::TempDir dir;
  SleepBinary sleeper(dir);
  sleeper.start_child();
  auto by_name = make_ok({{"name", sleeper.name()}});
  CHECK(metric(read_ok(*by_name, context("/proc", kT0, true)), "count") == 0);
  sleeper.start_detached();
  CHECK(metric(read_ok(*by_name, context("/proc", kT0, true)), "count") == 1);

  std::string self = std::to_string(getpid());
  auto by_pidfile = make_ok({{"pidfile", dir.write("self.pid", self)}});
  CHECK(metric(read_ok(*by_pidfile, context("/proc", kT0, true)), "count") == 0);
}

}  // namespace vigil
