#include "tests/plugins/testblock/testblock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

std::unique_ptr<Collector> make_testblock(const std::string& fifo) {
  Section s;
  s.type = "testblock";
  s.entries.push_back(Entry{"fifo", fifo, "vigil.ini", 2});
  PluginConfig config{s, "testblock", "/proc", "/sys"};
  Result<std::unique_ptr<Collector>> c = kTestBlockPlugin.create(config);
  REQUIRE(c.ok());
  return std::move(c.value());
}

// Opens the FIFO for writing without blocking: this succeeds only once a reader
// has it open (ENXIO before), which is how the test knows the collector is
// inside read(). Polls against a deadline; returns -1 when it passes.
int open_writer_when_reader_waits(const std::string& fifo) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      return fd;
    }
    std::this_thread::yield();
  }
  return -1;
}

}  // namespace

TEST_CASE("testblock read blocks until a writer opens and closes the fifo", "[host]") {
  test::TempDir dir;
  std::string fifo = dir.file("block");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::unique_ptr<Collector> block = make_testblock(fifo);

  std::atomic<bool> done{false};
  std::optional<Result<Sample>> result;
  std::thread reader([&] {
    result.emplace(block->read(CollectContext{}));
    done = true;
  });

  int fd = open_writer_when_reader_waits(fifo);
  // The reader is in read() now and cannot return before this writer closes.
  CHECK_FALSE(done.load());
  if (fd >= 0) {
    CHECK(write(fd, "release\n", 8) == 8);
    CHECK_FALSE(done.load());
    close(fd);
  } else {
    // Never leave the thread blocked: open the FIFO blocking to release it.
    close(open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
  }
  reader.join();
  REQUIRE(fd >= 0);
  REQUIRE(done.load());
  REQUIRE(result.has_value());
  REQUIRE(result->ok());
  const double* value = result->value().find("value");
  REQUIRE(value != nullptr);
  CHECK(*value == 1);
}

TEST_CASE("testblock of a missing fifo fails naming it", "[host]") {
  test::TempDir dir;
  Result<Sample> s = make_testblock(dir.file("none"))->read(CollectContext{});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error() == "cannot open " + dir.file("none") + ": No such file or directory");
}

TEST_CASE("testblock may block and needs a fifo", "[host]") {
  CHECK(kTestBlockPlugin.may_block);
  Section s;
  s.type = "testblock";
  s.file = "vigil.ini";
  s.line = 4;
  PluginConfig config{s, "testblock", "/proc", "/sys"};
  Result<std::unique_ptr<Collector>> c = kTestBlockPlugin.create(config);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error_info().line == 4);
}

}  // namespace vigil
