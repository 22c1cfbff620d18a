#include "plugins/exec/exec.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <optional>

#include "agent/plugin/services.h"
#include "agent/services/posix_spawner.h"
#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"
#include "tests/unit/agent/services/process_exit.h"

namespace vigil {
namespace {

Section exec_section(const std::string& command) {
  Section s;
  s.type = "exec";
  s.name = "probe";
  s.file = "/etc/vigil/conf.d/probe.ini";
  s.line = 4;
  s.entries.push_back(Entry{"command", command, s.file, 5});
  return s;
}

std::string script(const test::TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.write(name, "#!/bin/sh\n" + body);
  chmod(path.c_str(), 0755);
  return path;
}

Result<std::unique_ptr<Collector>> make(const Section& section) {
  return kExecPlugin.create(PluginConfig{section, section.name, "/proc", "/sys"});
}

// One collection on a real loop with the real spawner.
Result<Sample> collect_once(const std::string& command,
                            Duration timeout = std::chrono::seconds(10)) {
  Section section = exec_section(command);
  auto collector = make(section);
  REQUIRE(collector.ok());
  test::TestLoop loop;
  std::optional<Result<Sample>> got;
  {
    PosixSpawner spawner(loop.get());
    Services services;
    services.spawner = &spawner;
    CollectContext ctx;
    ctx.timeout = timeout;
    ctx.services = &services;
    collector.value()->collect(ctx, [&](Result<Sample> r) { got.emplace(std::move(r)); });
    loop.run_until([&] { return got.has_value(); });
  }
  CHECK(loop.close() == 0);
  REQUIRE(got.has_value());
  return std::move(*got);
}

}  // namespace

TEST_CASE("exec exit codes and first lines become state codes and messages", "[exec]") {
  test::TempDir dir;
  auto [code, text] = GENERATE(table<int, std::string>({
      {0, "OK - all fine"},
      {1, "WARNING - disk at 85%"},
      {2, "CRITICAL - disk at 99%"},
      {3, "UNKNOWN - cannot stat /data"},
  }));
  std::string path =
      script(dir, "check.sh",
             "echo '" + text + " | used=1'\necho 'details'\nexit " + std::to_string(code) + "\n");
  auto r = collect_once(path);
  REQUIRE(r.ok());
  CHECK(r->state_code == code);
  CHECK(r->message == text);
  REQUIRE(r->find("status") != nullptr);
  CHECK(*r->find("status") == code);
  REQUIRE(r->find("used") != nullptr);
  CHECK(*r->find("used") == 1);
  CHECK(r->metrics.front().first == "status");
}

TEST_CASE("exec words reach the command as separate arguments without a shell", "[exec]") {
  test::TempDir dir;
  std::string path = script(dir, "args.sh", "echo \"$#:$1:$2\"\n");
  // Inside double quotes a backslash escapes only `"` and `\`: before `$` it stays.
  auto r = collect_once(path + R"( 'two words' "\$HOME")");
  REQUIRE(r.ok());
  CHECK(r->message == R"(2:two words:\$HOME)");
}

TEST_CASE("exec perfdata becomes metrics in base units", "[exec]") {
  test::TempDir dir;
  std::string path = script(dir, "perf.sh",
                            "echo \"DISK OK | '/var'=2GB;;;0; 'rta'=20ms status=9 load=0.5\"\n"
                            "echo \"long text | 'pct used'=42%;80;90\"\n");
  auto r = collect_once(path);
  REQUIRE(r.ok());
  CHECK(r->message == "DISK OK");
  REQUIRE(r->find("_var") != nullptr);
  CHECK(*r->find("_var") == 2.0 * 1024 * 1024 * 1024);
  REQUIRE(r->find("rta") != nullptr);
  CHECK(*r->find("rta") == Approx(0.02));
  CHECK(*r->find("load") == 0.5);
  CHECK(*r->find("pct_used") == 42);
  CHECK(*r->find("status") == 0);  // the exit code, not the label
}

TEST_CASE("exec with no output has no message but a status", "[exec]") {
  test::TempDir dir;
  auto r = collect_once(script(dir, "quiet.sh", "exit 1\n"));
  REQUIRE(r.ok());
  CHECK_FALSE(r->message.has_value());
  CHECK(r->state_code == 1);
}

TEST_CASE("exec exit codes above 3 are reported, not failures", "[exec]") {
  test::TempDir dir;
  auto r = collect_once(script(dir, "odd.sh", "echo odd\nexit 42\n"));
  REQUIRE(r.ok());
  CHECK(r->state_code == 42);
  CHECK(*r->find("status") == 42);
}

TEST_CASE("exec past its timeout is a failed collection and its group is gone", "[exec]") {
  test::TempDir dir;
  std::string child_pid = dir.file("child.pid");
  std::string path =
      script(dir, "hang.sh",
             "echo starting\nsh -c 'exec sleep 30' &\necho $! > " + child_pid + "\nwait\n");
  auto r = collect_once(path, std::chrono::milliseconds(300));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("timed out") != std::string::npos);
  auto pid = read_file(child_pid);
  REQUIRE(pid.ok());
  CHECK(test::wait_exited(std::stoi(pid.value())));
}

TEST_CASE("exec output beyond 64 KiB is discarded", "[exec]") {
  test::TempDir dir;
  std::string path = script(dir, "big.sh",
                            "printf 'BIG OK | lines=1\\n'\n"
                            "head -c 300000 /dev/zero | tr '\\0' y\n"
                            "printf '\\n| late=1\\n'\nexit 0\n");
  auto r = collect_once(path);
  REQUIRE(r.ok());
  CHECK(r->message == "BIG OK");
  CHECK(r->find("lines") != nullptr);
  CHECK(r->find("late") == nullptr);  // it came after the cap
}

TEST_CASE("exec of a missing command fails the collection", "[exec]") {
  test::TempDir dir;
  auto r = collect_once(dir.file("nothing-here"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("nothing-here") != std::string::npos);
}

TEST_CASE("exec without a spawner service fails the collection", "[exec]") {
  Section section = exec_section("/bin/true");
  auto collector = make(section);
  REQUIRE(collector.ok());
  std::optional<Result<Sample>> got;
  collector.value()->collect(CollectContext{},
                             [&](Result<Sample> r) { got.emplace(std::move(r)); });
  REQUIRE(got.has_value());
  CHECK_FALSE(got->ok());
}

TEST_CASE("exec create reports command errors at the command line", "[exec]") {
  auto command = GENERATE(as<std::string>{}, "check 'open", "", "./relative/check", "a\\");
  auto r = make(exec_section(command));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error_info().file == "/etc/vigil/conf.d/probe.ini");
  CHECK(r.error_info().line == 5);
}

TEST_CASE("exec create touches nothing and accepts a command that does not exist yet", "[exec]") {
  CHECK(make(exec_section("/opt/not/installed/check_thing -w 1")).ok());
  CHECK(make(exec_section("check_thing_not_in_path")).ok());
}

TEST_CASE("exec check-config finds commands by path or in PATH", "[exec]") {
  test::TempDir dir;
  std::string runnable = script(dir, "run.sh", "exit 0\n");
  std::string plain = dir.write("plain.sh", "#!/bin/sh\n");
  auto errors_for = [](const std::string& command) {
    Section s = exec_section(command);
    return kExecPlugin.check(PluginConfig{s, s.name, "/proc", "/sys"});
  };
  CHECK(errors_for(runnable + " -v").empty());
  CHECK(errors_for("sh -c true").empty());
  for (const std::string& bad :
       {plain, dir.file("missing"), dir.path(), std::string("vigil-surely-not-a-command")}) {
    auto errors = errors_for(bad);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == 5);
    CHECK(errors[0].message.find(bad) != std::string::npos);
  }
}

}  // namespace vigil
