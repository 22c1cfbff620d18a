#include "agent/outputs/line_sink.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

// One send, answered on the loop: runs the loop until the answer comes and
// checks that it comes once.
std::optional<SendOutcome> send(test::TestLoop& loop, LineSink& sink,
                                const std::vector<SpoolEntry>& batch) {
  std::optional<SendOutcome> got;
  int calls = 0;
  sink.send(batch, [&](SendOutcome o) {
    ++calls;
    got = std::move(o);
  });
  CHECK(loop.run_until([&] { return calls > 0; }));
  CHECK(calls == 1);
  return got;
}

// A FIFO whose reader end the test holds, shrunk to one page so that a writer
// nobody reads for stalls at once.
struct Fifo {
  explicit Fifo(const std::string& p) : path(p) {
    REQUIRE(mkfifo(path.c_str(), 0600) == 0);
    reader = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(reader >= 0);
    REQUIRE(fcntl(reader, F_SETPIPE_SZ, 4096) >= 0);
  }
  ~Fifo() { close(reader); }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;

  int queued() const {
    int n = 0;
    ioctl(reader, FIONREAD, &n);
    return n;
  }
  // Reads what is there without waiting; false once every writer has closed.
  bool drain() {
    char buf[65536];
    for (;;) {
      ssize_t n = read(reader, buf, sizeof buf);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
        continue;
      }
      return n < 0;  // EAGAIN: a writer is still there; 0: end of file
    }
  }

  std::string path;
  int reader = -1;
  std::string got;
};

// Lowers the largest file this process may write (RLIMIT_FSIZE) for one scope:
// a write that crosses it is cut short and the next one fails with EFBIG, as a
// disk that fills up halfway through a batch does.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of death
    rlimit lower = old_;
    lower.rlim_cur = bytes;
    ok_ = setrlimit(RLIMIT_FSIZE, &lower) == 0;
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  sighandler_t old_handler_ = SIG_DFL;
  bool ok_ = false;
};

}  // namespace

TEST_CASE("line sink appends one bare record per line", "[line_sink]") {
  test::TempDir dir;
  test::TestLoop loop;
  std::string path = dir.file("out.jsonl");
  {
    LineSink sink(loop.get(), path);
    auto o =
        send(loop, sink, {{"a", R"({"kind":"event","n":1})"}, {"b", R"({"kind":"event","n":2})"}});
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kAck);
    o = send(loop, sink, {{"c", R"({"kind":"heartbeat"})"}});
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kAck);
  }
  const std::string first =
      "{\"kind\":\"event\",\"n\":1}\n{\"kind\":\"event\",\"n\":2}\n{\"kind\":\"heartbeat\"}\n";
  CHECK(read_file(path).value() == first);
  {
    // A new sink (a restart) appends after what is there.
    LineSink again(loop.get(), path);
    REQUIRE(send(loop, again, {{"d", "{}"}}));
    CHECK(read_file(path).value() == first + "{}\n");
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("line sink retries when its file cannot be opened", "[line_sink]") {
  test::TempDir dir;
  test::TestLoop loop;
  std::string path = dir.file("missing/out.jsonl");
  {
    LineSink sink(loop.get(), path);
    auto o = send(loop, sink, {{"a", "{}"}});
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kRetry);
    CHECK(o->error.find(path) != std::string::npos);
    // Once the folder exists the next attempt succeeds.
    REQUIRE(make_dirs(dir.file("missing")).ok());
    o = send(loop, sink, {{"a", "{}"}});
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kAck);
    CHECK(read_file(path).value() == "{}\n");
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("line sink idle does not keep the loop running", "[line_sink]") {
  test::TempDir dir;
  test::TestLoop loop;
  {
    LineSink sink(loop.get(), dir.file("out.jsonl"));
    // With nothing in flight, a loop with nothing else to do returns at once.
    CHECK(uv_run(loop.get(), UV_RUN_DEFAULT) == 0);
    REQUIRE(send(loop, sink, {{"a", "{}"}}));
    CHECK(uv_run(loop.get(), UV_RUN_DEFAULT) == 0);
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("a stalled reader holds only the writer thread, and abort does not wait for it",
          "[line_sink]") {
  test::TempDir dir;
  test::TestLoop loop;
  Fifo fifo(dir.file("out.fifo"));
  const std::string big(64 * 1024, 'x');  // sixteen times what the pipe holds
  auto sink = std::make_unique<LineSink>(loop.get(), fifo.path);

  int first_calls = 0;
  sink->send({{"a", big}}, [&](SendOutcome) { ++first_calls; });
  // send() returned while the write is stuck: the loop still turns, and the
  // pipe fills up without anyone answering.
  REQUIRE(loop.run_until([&] { return fifo.queued() >= 4096; }));
  CHECK(first_calls == 0);

  // abort() returns although the write is still blocked, and its outcome is
  // never delivered: the next batch (queued behind it on the same thread) is
  // answered, the forgotten one is not.
  sink->abort();
  std::optional<SendOutcome> second;
  sink->send({{"b", "{}"}}, [&](SendOutcome o) { second = std::move(o); });
  REQUIRE(loop.run_until([&] {
    fifo.drain();
    return second.has_value();
  }));
  CHECK(first_calls == 0);
  // A FIFO cannot be synced: that is no reason to retry.
  CHECK(second->kind == SendOutcome::Kind::kAck);
  CHECK(fifo.got == big + "\n{}\n");

  // The destructor does not wait for a stuck write either. The detached thread
  // finishes once the reader drains the pipe and then closes its end, which the
  // reader sees as the end of the file.
  sink->send({{"c", big}}, [&](SendOutcome) { ++first_calls; });
  REQUIRE(loop.run_until([&] { return fifo.queued() >= 4096; }));
  sink.reset();
  CHECK(loop.run_until([&] { return !fifo.drain(); }));
  CHECK(first_calls == 0);
  CHECK(fifo.got == big + "\n{}\n" + big + "\n");
  CHECK(loop.close() == 0);
}

TEST_CASE("a batch given up on while it waits behind a stuck write is not written", "[line_sink]") {
  test::TempDir dir;
  test::TestLoop loop;
  Fifo fifo(dir.file("out.fifo"));
  const std::string big(64 * 1024, 'x');
  {
    // A reload while the pipe is stalled: the old sink goes with its write
    // stuck, and the new sink's batch waits behind that write.
    auto old_sink = std::make_unique<LineSink>(loop.get(), fifo.path);
    old_sink->send({{"a", big}}, [](SendOutcome) {});
    REQUIRE(loop.run_until([&] { return fifo.queued() >= 4096; }));
    old_sink.reset();
    LineSink sink(loop.get(), fifo.path);
    int forgotten_calls = 0;
    sink.send({{"b", R"({"forgotten":true})"}}, [&](SendOutcome) { ++forgotten_calls; });
    // Another reload gives up on that batch before it was written; it stays
    // spooled and goes out later, so writing it now would only repeat it.
    sink.abort();
    std::optional<SendOutcome> next;
    sink.send({{"c", "{}"}}, [&](SendOutcome o) { next = std::move(o); });
    REQUIRE(loop.run_until([&] {
      fifo.drain();
      return next.has_value();
    }));
    CHECK(next->kind == SendOutcome::Kind::kAck);
    CHECK(forgotten_calls == 0);
    CHECK(fifo.got == big + "\n{}\n");
  }
  // Both threads end once nothing is stuck: the FIFO loses its last writer.
  CHECK(loop.run_until([&] { return !fifo.drain(); }));
  CHECK(loop.close() == 0);
}

TEST_CASE("a write that fails halfway cuts the file back to its last whole line", "[line_sink]") {
  test::TempDir dir;
  test::TestLoop loop;
  std::string path = dir.file("out.jsonl");
  const std::string head = "{\"n\":1}\n{\"n\":2}\n";
  const std::vector<SpoolEntry> batch = {
      {"c", R"({"n":3,"pad":"0123456789"})"},
      {"d", R"({"n":4,"pad":"0123456789"})"},
      {"e", R"({"n":5,"pad":"0123456789"})"},
  };
  const std::string tail =
      "{\"n\":3,\"pad\":\"0123456789\"}\n{\"n\":4,\"pad\":\"0123456789\"}\n"
      "{\"n\":5,\"pad\":\"0123456789\"}\n";
  {
    LineSink sink(loop.get(), path);
    auto o = send(loop, sink, {{"a", R"({"n":1})"}, {"b", R"({"n":2})"}});
    REQUIRE(o);
    REQUIRE(o->kind == SendOutcome::Kind::kAck);
    {
      // Room for half a line of the batch: the first write is cut short, the
      // second fails.
      FileSizeLimit limit(head.size() + 10);
      REQUIRE(limit.ok());
      o = send(loop, sink, batch);
    }
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kRetry);
    CHECK(o->error.find("cannot write " + path) != std::string::npos);
    CHECK(read_file(path).value() == head);
    // The retry lands on a line boundary: every line whole, each once.
    o = send(loop, sink, batch);
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kAck);
    CHECK(read_file(path).value() == head + tail);
  }
  CHECK(loop.close() == 0);
}

}  // namespace vigil
