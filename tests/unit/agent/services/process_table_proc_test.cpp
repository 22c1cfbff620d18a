#include "agent/services/process_table_proc.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "agent/util/fs.h"
#include "agent/util/strings.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

std::string fixture(const std::string& name) {
  return test::source_dir() + "/plugins/process/testdata/" + name;
}

// The fixture's expected.txt: pid ppid state cpu_ticks start_ticks threads
// rss_pages uid comm (comm last: it may hold spaces).
std::string describe(const ProcessInfo& p) {
  std::ostringstream out;
  out << p.pid << ' ' << p.ppid << ' ' << p.state << ' ' << p.cpu_ticks << ' ' << p.start_ticks
      << ' ' << p.threads << ' ' << p.rss_pages << ' ' << p.uid << ' ' << p.comm << '\n';
  return out.str();
}

const ProcessInfo* find_pid(const ProcessSnapshot& s, int pid) {
  for (const ProcessInfo& p : s.processes) {
    if (p.pid == pid) {
      return &p;
    }
  }
  return nullptr;
}

const MonotonicTime kT0 = MonotonicTime(std::chrono::hours(100));

}  // namespace

TEST_CASE("a scan of the fixture tree reads every live process and skips the vanished",
          "[process]") {
  auto snap = scan_processes(fixture("odd/proc"), kT0, ProcessScanNeeds{true, true});
  REQUIRE(snap.ok());
  std::string got;
  for (const ProcessInfo& p : snap.value()->processes) {
    got += describe(p);
  }
  auto expected = read_file(fixture("odd/expected.txt"));
  REQUIRE(expected.ok());
  CHECK(got == expected.value());
  CHECK(snap.value()->uptime_seconds == 1000.0);
  CHECK(snap.value()->taken == kT0);
  CHECK(snap.value()->ticks_per_second == sysconf(_SC_CLK_TCK));
}

TEST_CASE("comm is taken between the first and the last parenthesis", "[process]") {
  auto snap = scan_processes(fixture("odd/proc"), kT0, ProcessScanNeeds{});
  REQUIRE(snap.ok());
  const ProcessInfo* odd = find_pid(*snap.value(), 100);
  REQUIRE(odd != nullptr);
  CHECK(odd->comm == "(a b) c)");
  CHECK(odd->state == 'S');
  CHECK(odd->threads == 3);
}

TEST_CASE("a scan reads command lines and uids only when asked", "[process]") {
  auto lean = scan_processes(fixture("odd/proc"), kT0, ProcessScanNeeds{});
  REQUIRE(lean.ok());
  const ProcessInfo* odd = find_pid(*lean.value(), 100);
  REQUIRE(odd != nullptr);
  CHECK(odd->uid == -1);
  CHECK(odd->cmdline.empty());

  auto full = scan_processes(fixture("odd/proc"), kT0, ProcessScanNeeds{true, true});
  REQUIRE(full.ok());
  odd = find_pid(*full.value(), 100);
  REQUIRE(odd != nullptr);
  CHECK(odd->uid == 1000);
  CHECK(odd->cmdline == "/usr/bin/odd --name (a b) c)");
  const ProcessInfo* zombie = find_pid(*full.value(), 103);
  REQUIRE(zombie != nullptr);
  CHECK(zombie->cmdline.empty());  // an empty cmdline is no sign of a vanished process
}

TEST_CASE("fd tables are counted, and an unreadable one is absent", "[process]") {
  CHECK(count_process_fds(fixture("odd/proc"), 100) == 3);
  CHECK(count_process_fds(fixture("odd/proc"), 101) == 4);
  CHECK_FALSE(count_process_fds(fixture("odd/proc"), 107).has_value());
  CHECK_FALSE(count_process_fds(fixture("odd/proc"), 99999).has_value());
}

TEST_CASE("a missing procfs or uptime fails the scan", "[process]") {
  test::TempDir dir;
  CHECK_FALSE(scan_processes(dir.file("nowhere"), kT0, ProcessScanNeeds{}).ok());
  std::filesystem::create_directories(dir.file("proc/1"));
  auto r = scan_processes(dir.file("proc"), kT0, ProcessScanNeeds{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("uptime") != std::string::npos);
}

TEST_CASE("a scan of the real proc finds this process as ps shows it", "[process]") {
  auto snap = scan_processes("/proc", kT0, ProcessScanNeeds{true, true});
  REQUIRE(snap.ok());
  const ProcessInfo* self = find_pid(*snap.value(), static_cast<int>(getpid()));
  REQUIRE(self != nullptr);
  auto comm = read_file("/proc/self/comm");
  REQUIRE(comm.ok());
  CHECK(self->comm == trim(comm.value()));
  CHECK(self->ppid == static_cast<int>(getppid()));
  CHECK(self->uid == static_cast<int64_t>(getuid()));
  CHECK(self->rss_pages > 0);
  CHECK(self->threads >= 1);
  CHECK(self->state == 'R');
  CHECK(self->cmdline.find("unit_tests") != std::string::npos);
  // Both clocks tick in hundredths: a process started in the tick of the scan
  // has a start time equal to the uptime.
  CHECK(snap.value()->uptime_seconds >= static_cast<double>(self->start_ticks) /
                                            static_cast<double>(snap.value()->ticks_per_second));
  auto fds = count_process_fds("/proc", static_cast<int>(getpid()));
  REQUIRE(fds.has_value());
  CHECK(*fds >= 3);
}

TEST_CASE("the table serves one scan to every caller within max_age", "[process]") {
  ProcProcessTable table;
  const std::string proc = fixture("odd/proc");
  const Duration half{5000};
  auto a = table.snapshot(proc, kT0, half, ProcessScanNeeds{});
  auto b = table.snapshot(proc, kT0 + Duration(4000), half, ProcessScanNeeds{});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.value() == b.value());
  CHECK(table.scans() == 1);

  SECTION("an older scan is replaced") {
    auto c = table.snapshot(proc, kT0 + Duration(5001), half, ProcessScanNeeds{});
    REQUIRE(c.ok());
    CHECK(c.value() != a.value());
    CHECK(c.value()->taken == kT0 + Duration(5001));
    CHECK(table.scans() == 2);
  }
  SECTION("a caller that needs more fields forces one rescan, then shares it") {
    auto c = table.snapshot(proc, kT0 + Duration(1000), half, ProcessScanNeeds{false, true});
    REQUIRE(c.ok());
    CHECK(c.value()->read.cmdline);
    CHECK(table.scans() == 2);
    auto d = table.snapshot(proc, kT0 + Duration(2000), half, ProcessScanNeeds{});
    REQUIRE(d.ok());
    CHECK(d.value() == c.value());
    CHECK(table.scans() == 2);
    // The next rescan keeps reading what any caller needed.
    auto e = table.snapshot(proc, kT0 + Duration(9000), half, ProcessScanNeeds{});
    REQUIRE(e.ok());
    CHECK(e.value()->read.cmdline);
  }
  SECTION("a failed scan is reported and retried next time") {
    auto c = table.snapshot("/nonexistent-procfs", kT0, half, ProcessScanNeeds{});
    CHECK_FALSE(c.ok());
    auto d = table.snapshot("/nonexistent-procfs", kT0, half, ProcessScanNeeds{});
    CHECK_FALSE(d.ok());
    CHECK(table.scans() == 3);
  }
}

}  // namespace vigil
