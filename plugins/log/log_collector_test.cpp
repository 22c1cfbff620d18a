#include "plugins/log/log_collector.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/services/file_watcher_uv.h"
#include "agent/util/strings.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

using std::chrono::seconds;

void append(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
}

double metric(const Sample& s, std::string_view name) {
  const double* v = s.find(name);
  REQUIRE(v != nullptr);
  return *v;
}

// Skipped bytes over every file, as the sample's loss channel reports them.
uint64_t skipped(const Sample& s) {
  uint64_t total = 0;
  for (const LossCount& l : s.losses) {
    CHECK(l.counter == "log_bytes_skipped");
    total += l.total;
  }
  return total;
}

// One log check over a TempDir, driven by hand: each collect() moves the clock 1s.
struct Harness {
  explicit Harness(LogOptions o, std::string state = {}) : options(std::move(o)) {
    ctx.now = MonotonicTime(std::chrono::hours(1000));
    ctx.state_dir = state.empty() ? dir.file("state") : state;
    std::filesystem::create_directories(ctx.state_dir);
    if (options.globs.empty()) {
      options.globs.push_back(dir.file("app.log"));
    }
    restart();
  }
  // A new collector over the same state folder: what an agent restart does.
  void restart() {
    auto m = LineMatcher::create({PatternText{"ERROR", "", 0}}, {PatternText{"IGNORE", "", 0}});
    REQUIRE(m.ok());
    c = std::make_unique<LogCollector>(options, std::move(m.value()));
  }
  Sample collect(Duration step = seconds(1)) {
    ctx.now += step;
    auto r = c->read(ctx);
    REQUIRE(r.ok());
    return r.value();
  }
  std::string log() const { return dir.file("app.log"); }

  test::TempDir dir;
  LogOptions options;
  CollectContext ctx;
  std::unique_ptr<LogCollector> c;
};

LogOptions beginning() {
  LogOptions o;
  o.from_beginning = true;
  return o;
}

TEST_CASE("log counts matching lines and returns the first five as samples", "[log]") {
  Harness h(beginning());
  append(h.log(), "ok 1\nERROR one\nok 2\nERROR two IGNORE\n");
  Sample s = h.collect();
  CHECK(metric(s, "matches") == 1);
  CHECK(metric(s, "lines") == 4);
  CHECK(s.occurrences == 1);
  CHECK(s.examples == std::vector<std::string>{"ERROR one"});

  std::string more;
  for (int i = 0; i < 7; ++i) {
    more += "ERROR n" + std::to_string(i) + "\n";
  }
  append(h.log(), more);
  s = h.collect();
  CHECK(metric(s, "matches") == 8);  // both collections are inside the 1m window
  CHECK(metric(s, "lines") == 7);
  CHECK(s.occurrences == 7);
  CHECK(s.examples ==
        std::vector<std::string>{"ERROR n0", "ERROR n1", "ERROR n2", "ERROR n3", "ERROR n4"});
  s = h.collect();
  CHECK(metric(s, "lines") == 0);
  CHECK(s.examples.empty());
}

TEST_CASE("log starts at the end of files present at first sight unless from is beginning",
          "[log]") {
  bool from_beginning = GENERATE(false, true);
  LogOptions o;
  o.from_beginning = from_beginning;
  Harness h(o);
  append(h.log(), "ERROR old 1\nERROR old 2\nERROR partial");
  Sample s = h.collect();
  CHECK(metric(s, "matches") == (from_beginning ? 2 : 0));
  append(h.log(), " line\nERROR new\n");
  s = h.collect();
  // The line that was being written at first sight is counted whole when it ends.
  CHECK(s.occurrences == 2);
  CHECK(s.examples == std::vector<std::string>{"ERROR partial line", "ERROR new"});
}

TEST_CASE("log remembers the first sight of a path across restarts", "[log]") {
  LogOptions o;
  o.globs = {};
  Harness h(o);
  h.options.globs = {h.dir.file("*.log")};
  h.restart();
  append(h.log(), "ERROR before\n");
  CHECK(h.collect().occurrences == 0);  // from = end at first sight
  h.restart();
  append(h.log(), "ERROR while down\n");
  append(h.dir.file("new.log"), "ERROR in a new file\n");
  Sample s = h.collect();
  // Not a first sight any more: the old file resumes, the new one is read whole.
  CHECK(s.occurrences == 2);
}

TEST_CASE("log follows rename rotation and counts every line once", "[log]") {
  LogOptions o = beginning();
  o.rotate_wait = seconds(5);
  Harness h(o);
  std::string rotated = h.dir.file("app.log.1");
  int writer = open(h.log().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(writer >= 0);
  int expected = 0;
  auto put = [&](int fd, int n) {
    for (int i = 0; i < n; ++i) {
      std::string line = "ERROR " + std::to_string(expected++) + "\nok\n";
      REQUIRE(write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    }
  };
  double counted = 0;
  put(writer, 10);
  counted += h.collect().occurrences;
  put(writer, 5);
  REQUIRE(rename(h.log().c_str(), rotated.c_str()) == 0);
  put(writer, 5);  // the writer appends to the renamed file until it reopens
  counted += h.collect().occurrences;
  CHECK(h.c->open_files() == 1);
  put(writer, 3);
  close(writer);
  writer = open(h.log().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  put(writer, 4);
  Sample s = h.collect();
  counted += s.occurrences;
  CHECK(h.c->open_files() == 2);
  CHECK(counted == expected);
  // The old file is closed once quiet for rotate_wait; the new one is followed.
  counted += h.collect(seconds(6)).occurrences;
  CHECK(h.c->open_files() == 1);
  put(writer, 2);
  counted += h.collect().occurrences;
  close(writer);
  CHECK(counted == expected);
}

TEST_CASE("log reads a copytruncated file again from its start and counts unread bytes", "[log]") {
  LogOptions o = beginning();
  o.slice_bytes = 16;  // so that the agent has seen bytes it has not read yet
  Harness h(o);
  append(h.log(), "ERROR aaaaaaaa\nERROR bbbbbbbb\n");  // 2 lines of 15 bytes
  Sample s = h.collect();
  CHECK(s.occurrences == 1);
  REQUIRE(truncate(h.log().c_str(), 0) == 0);
  append(h.log(), "ERROR c\n");
  s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR c"});
  // 14 bytes seen beyond the offset (16) and never read, plus the 1 byte of the
  // unfinished line.
  CHECK(skipped(s) == 15);
}

TEST_CASE("log names the file its skipped bytes came from", "[log]") {
  LogOptions o = beginning();
  o.max_line = 8;
  Harness h(o);
  append(h.log(), "ERROR a very long line\nok\n");
  Sample s = h.collect();
  REQUIRE(s.losses.size() == 1);
  CHECK(s.losses[0].counter == "log_bytes_skipped");
  CHECK(s.losses[0].place == "file " + h.log());
  CHECK(s.losses[0].total > 0);
}

TEST_CASE("log ignores the NUL head left by a writer without O_APPEND after copytruncate",
          "[log]") {
  Harness h(beginning());
  append(h.log(), "ERROR first\n");
  CHECK(h.collect().occurrences == 1);
  int fd = open(h.log().c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, 0) == 0);
  std::string line = "ERROR after truncation\n";
  // The writer's offset is still 12: the file gets a hole of NULs at its head.
  REQUIRE(pwrite(fd, line.data(), line.size(), 12) == static_cast<ssize_t>(line.size()));
  close(fd);
  Sample s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR after truncation"});
  CHECK(metric(s, "lines") == 1);
}

TEST_CASE("log starts over when a file shrinks", "[log]") {
  Harness h(beginning());
  append(h.log(), "ERROR 1\nERROR 2\nERROR 3\n");
  CHECK(h.collect().occurrences == 3);
  int fd = open(h.log().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  REQUIRE(fd >= 0);
  close(fd);
  append(h.log(), "ERROR 4\n");
  Sample s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR 4"});
  CHECK(skipped(s) == 0);
}

TEST_CASE("log follows a file deleted and created again", "[log]") {
  LogOptions o = beginning();
  o.rotate_wait = seconds(2);
  Harness h(o);
  append(h.log(), "ERROR 1\n");
  CHECK(h.collect().occurrences == 1);
  REQUIRE(unlink(h.log().c_str()) == 0);
  append(h.log(), "ERROR 2\nERROR 3\n");
  CHECK(h.collect().occurrences == 2);
  CHECK(h.c->open_files() == 2);
  h.collect(seconds(3));
  CHECK(h.c->open_files() == 1);
}

TEST_CASE("log tells a reused inode with other content apart by its fingerprint", "[log]") {
  Harness h(beginning());
  append(h.log(), "ERROR old content that is long enough\n");
  CHECK(h.collect().occurrences == 1);
  h.restart();
  SECTION("same inode, rewritten in place while the agent was down") {
    int fd = open(h.log().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    REQUIRE(fd >= 0);
    close(fd);
  }
  SECTION("deleted and created again, maybe on the same inode") {
    REQUIRE(unlink(h.log().c_str()) == 0);
  }
  append(h.log(), "different head line\nERROR new 1\nERROR new 2\nok\n");
  // Either way the offset of the old content must not be used.
  Sample s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR new 1", "ERROR new 2"});
}

TEST_CASE("log resumes after a restart without loss or recount and keeps a partial line", "[log]") {
  Harness h(beginning());
  append(h.log(), "ERROR 1\nok\nERROR par");
  Sample s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR 1"});
  h.restart();
  append(h.log(), "tial\nERROR 2\n");
  s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR partial", "ERROR 2"});
  CHECK(metric(s, "lines") == 2);
  h.restart();
  s = h.collect();
  CHECK(metric(s, "lines") == 0);
}

TEST_CASE("log cuts a 5 MB line, counts the rest as skipped and still sees later lines", "[log]") {
  const bool restart = GENERATE(false, true);
  LogOptions o = beginning();
  o.max_line = 1024;
  o.slice_bytes = 1 << 20;  // the line spans several collections
  Harness h(o);
  append(h.log(), "ERROR huge " + std::string(5u << 20, 'x'));
  double skipped_bytes = 0;
  double matched = 0;
  for (int i = 0; i < 8; ++i) {
    Sample s = h.collect();
    matched += s.occurrences;
    skipped_bytes = static_cast<double>(skipped(s));
  }
  CHECK(matched == 1);  // the first max_line bytes are a line
  CHECK(skipped_bytes == 11 + (5u << 20) - 1024);
  // A restart in the middle of the skip goes on skipping.
  if (restart) {
    h.restart();
  }
  append(h.log(), "yyy\nERROR later\n");
  Sample s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR later"});
}

TEST_CASE("log drops NUL bytes and keeps samples valid UTF-8 on binary garbage", "[log]") {
  Harness h(beginning());
  std::string garbage("ERROR \xff\xfe\x80 bad \0\0utf8\n\0\0\0\n\x01\x02\n", 28);
  garbage += "ERROR " + std::string(600, '\xe2') + "\n";
  append(h.log(), garbage);
  Sample s = h.collect();
  CHECK(metric(s, "lines") == 3);  // the line of NULs is no line
  REQUIRE(s.examples.size() == 2);
  for (const std::string& l : s.examples) {
    CHECK(l.find('\0') == std::string::npos);
    CHECK(l.size() <= 512);
    CHECK(sanitize_utf8(l, 512) == l);
  }
  CHECK(s.examples[0].find("bad utf8") != std::string::npos);
}

TEST_CASE("log counts a match whose line or literal straddles a read or a slice", "[log]") {
  // Reads are 256 KiB; with slice_bytes = 300000 the second pass starts mid-line.
  LogOptions o = beginning();
  o.slice_bytes = GENERATE(size_t{4} << 20, size_t{300000});
  Harness h(o);
  std::string text;
  double lines = 0;
  auto filler_to = [&](size_t end) {  // ordinary lines up to exactly `end`
    while (text.size() < end) {
      std::string line = "Nov  3 10:00:00 web sshd[1]: Accepted publickey for deploy";
      line.resize(std::min(line.size(), end - text.size() - 1));
      text += line + "\n";
      ++lines;
    }
  };
  const size_t kRead = 256 * 1024;
  for (size_t border : {kRead, 2 * kRead, size_t{300000}, 3 * kRead}) {
    filler_to(border - 8);
    text += "kernel ERROR at the border\r\n";  // "ERROR" spans the border
    ++lines;
  }
  filler_to(text.size() + 5000);
  append(h.log(), text);
  double matched = 0;
  double seen = 0;
  for (int i = 0; i < 4; ++i) {
    Sample s = h.collect();
    matched += s.occurrences;
    seen += metric(s, "lines");
    for (const std::string& e : s.examples) {
      CHECK(e == "kernel ERROR at the border");
    }
  }
  CHECK(seen == lines);
  CHECK(matched == 4);
}

TEST_CASE("log picks up a file that starts matching the glob later", "[log]") {
  LogOptions o;
  Harness h(o);
  h.options.globs = {h.dir.file("logs/*.log")};
  h.restart();
  std::filesystem::create_directories(h.dir.file("logs"));
  append(h.dir.file("logs/a.log"), "ERROR present at first sight\n");
  CHECK(h.collect().occurrences == 0);
  append(h.dir.file("logs/b.log"), "ERROR 1\nERROR 2\n");
  append(h.dir.file("logs/b.txt"), "ERROR not matching the glob\n");
  Sample s = h.collect();
  CHECK(s.examples == std::vector<std::string>{"ERROR 1", "ERROR 2"});
}

TEST_CASE("log matches expire from the window", "[log]") {
  LogOptions o = beginning();
  o.window = seconds(10);
  Harness h(o);
  append(h.log(), "ERROR 1\n");
  CHECK(metric(h.collect(), "matches") == 1);
  append(h.log(), "ERROR 2\n");
  CHECK(metric(h.collect(seconds(5)), "matches") == 2);
  CHECK(metric(h.collect(seconds(6)), "matches") == 1);
  CHECK(metric(h.collect(seconds(10)), "matches") == 0);
}

TEST_CASE("log in once mode persists nothing and reads only from the beginning when asked",
          "[log]") {
  bool from_beginning = GENERATE(false, true);
  LogOptions o;
  o.from_beginning = from_beginning;
  Harness h(o);
  h.ctx.once = true;
  h.ctx.state_dir.clear();
  append(h.log(), "ERROR 1\nERROR 2\n");
  Sample s = h.collect();
  CHECK(metric(s, "matches") == (from_beginning ? 2 : 0));
  CHECK(std::filesystem::is_empty(h.dir.file("state")));
}

TEST_CASE("log reads on change notifications so that copytruncate loses nothing", "[log]") {
  test::TestLoop loop;
  {
    UvFileWatcher watcher(loop.get(), UvFileWatcher::Options{.coalesce = Duration(1)});
    Services services;
    services.watcher = &watcher;
    Harness h(beginning());
    h.ctx.services = &services;
    append(h.log(), "ok\n");
    h.collect();
    CHECK(h.c->watched_paths() == 1);
    uint64_t passes = h.c->notify_passes();
    append(h.log(), "ERROR before truncation\n");
    REQUIRE(loop.run_until([&] { return h.c->notify_passes() > passes; }));
    REQUIRE(truncate(h.log().c_str(), 0) == 0);
    append(h.log(), "ERROR after\n");
    Sample s = h.collect();
    CHECK(s.examples == std::vector<std::string>{"ERROR before truncation", "ERROR after"});
    h.c->stop();
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("log drains a backlog between collections, a slice per loop turn", "[log]") {
  test::TestLoop loop;
  {
    // A change notification would take a minute: only the backlog's own passes run.
    UvFileWatcher watcher(loop.get(), UvFileWatcher::Options{.coalesce = Duration(60000)});
    Services services;
    services.watcher = &watcher;
    LogOptions o = beginning();
    o.slice_bytes = 4096;
    Harness h(o);
    h.ctx.services = &services;
    std::string backlog;
    for (int i = 0; i < 200; ++i) {
      std::string line = "ERROR " + std::to_string(i) + " ";
      backlog += line + std::string(99 - line.size(), 'x') + "\n";  // 100 bytes a line
    }
    append(h.log(), backlog);  // 20,000 bytes: five slices
    Sample first = h.collect();
    CHECK(metric(first, "lines") == 40);  // one slice in the collection itself
    // TestLoop's ticking timer matters here: when the last pass runs from the
    // timer phase, UV_RUN_ONCE alone would then wait for I/O that never comes.
    loop.run_until([&] { return h.c->notify_passes() >= 4; });
    CHECK(h.c->notify_passes() == 4);  // the other four, each at a loop turn of its own
    Sample next = h.collect();
    CHECK(metric(next, "lines") == 160);
    CHECK(metric(next, "matches") == 200);  // the window holds both collections
    h.c->stop();
  }
  CHECK(loop.close() == 0);
}

}  // namespace
}  // namespace vigil
