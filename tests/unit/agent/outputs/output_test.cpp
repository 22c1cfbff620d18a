#include "agent/outputs/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "agent/loop/pool.h"
#include "agent/util/fs.h"
#include "agent/util/uuid.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

// What the endpoint saw and how it answers. The test owns it; the sink (owned by
// the Output) only points at it.
struct Endpoint {
  struct Batch {
    std::vector<std::string> ids;
    std::vector<std::string> payloads;
    MonotonicTime at;
  };
  std::vector<Batch> batches;
  std::vector<MonotonicTime> answered;
  std::deque<SendOutcome> script;  // answers in turn; then `otherwise`
  SendOutcome otherwise;           // kAck by default
  std::function<void(const std::vector<SpoolEntry>&)> on_send;
  // While set, a request stays unanswered until the test calls `release`, so that it
  // can act while the request is in flight.
  bool hold = false;
  std::function<void()> release;
  // While set, send() answers before it returns, as a sink that cannot start does.
  bool at_once = false;

  std::vector<std::string> all_ids() const {
    std::vector<std::string> out;
    for (const Batch& b : batches) {
      out.insert(out.end(), b.ids.begin(), b.ids.end());
    }
    return out;
  }
};

// A Sink that answers from the script on a later loop turn, as a real request does.
class ScriptedSink : public Sink {
 public:
  ScriptedSink(uv_loop_t* loop, Endpoint* endpoint)
      : endpoint_(endpoint), timer_(loop, [this] { answer(); }) {}

  void send(const std::vector<SpoolEntry>& batch, std::function<void(SendOutcome)> done) override {
    Endpoint::Batch b;
    for (const SpoolEntry& e : batch) {
      b.ids.push_back(e.id);
      b.payloads.push_back(e.payload);
    }
    b.at = std::chrono::steady_clock::now();
    endpoint_->batches.push_back(std::move(b));
    if (endpoint_->on_send) {
      endpoint_->on_send(batch);
    }
    if (endpoint_->script.empty()) {
      outcome_ = endpoint_->otherwise;
    } else {
      outcome_ = endpoint_->script.front();
      endpoint_->script.pop_front();
    }
    done_ = std::move(done);
    if (endpoint_->at_once) {
      answer();
      return;
    }
    if (endpoint_->hold) {
      endpoint_->release = [this] { timer_.start(milliseconds(0)); };
      return;
    }
    timer_.start(milliseconds(0));
  }
  void abort() override {
    timer_.stop();
    done_ = nullptr;
  }

 private:
  void answer() {
    if (!done_) {
      return;
    }
    endpoint_->answered.push_back(std::chrono::steady_clock::now());
    std::exchange(done_, nullptr)(outcome_);
  }

  Endpoint* endpoint_;
  Timer timer_;
  SendOutcome outcome_;
  std::function<void(SendOutcome)> done_;
};

SendOutcome outcome(SendOutcome::Kind kind, long status, std::string reply = "",
                    std::optional<Duration> retry_after = std::nullopt) {
  SendOutcome o;
  o.kind = kind;
  o.status = status;
  o.error = "HTTP " + std::to_string(status);
  o.reply = std::move(reply);
  o.retry_after = retry_after;
  return o;
}

OutputConfig base_config() {
  OutputConfig c;
  c.name = "main";
  c.url = "http://127.0.0.1:9/ingest";
  c.flush_interval = milliseconds(50);
  c.retry_max = milliseconds(100);
  c.spool_max = 1u << 20;
  // One lane, as before lanes existed: these tests hold with spool_priority off (the
  // lanes have tests of their own, below and in lane_spool_test.cpp).
  c.spool_priority = false;
  return c;
}

Record event(int n, size_t pad = 0) {
  Record r;
  r.kind = RecordKind::kEvent;
  r.id = uuid_v7(std::chrono::system_clock::now());
  r.json = json{{"kind", "event"}, {"id", r.id}, {"n", n}, {"pad", std::string(pad, 'p')}}.dump();
  return r;
}

Record incident(const std::string& key, CheckState severity, int level, bool resolved) {
  Record r;
  r.kind = RecordKind::kIncident;
  r.id = uuid_v7(std::chrono::system_clock::now());
  r.json = json{{"kind", "incident"}, {"id", r.id}, {"key", key}}.dump();
  r.key = key;
  r.severity = severity;
  r.escalation_level = level;
  r.resolved = resolved;
  return r;
}

Record of_kind(RecordKind kind) {
  Record r = event(0);
  r.kind = kind;
  return r;
}

// One output over a real spool in a temp folder, on a real loop.
class Fixture {
 public:
  explicit Fixture(OutputConfig config) {
    output = std::make_unique<Output>(loop.get(), std::move(config), dir.path(),
                                      std::make_unique<ScriptedSink>(loop.get(), &endpoint),
                                      [this](const std::string& e) { fatal = e; });
    output->set_on_durable([this] { ++durable_calls; });
  }
  ~Fixture() { finish(); }

  // Destroys the output and closes the loop: 0 when every handle was closed.
  int finish() {
    if (closed_) {
      return 0;
    }
    closed_ = true;
    output.reset();
    return loop.close();
  }
  bool run_until(const std::function<bool()>& done) { return loop.run_until(done); }
  std::string spool_dir() const { return dir.path() + "/spool/main"; }
  std::string dead_dir() const { return dir.path() + "/dead/main"; }

  test::TempDir dir;
  test::TestLoop loop;
  Endpoint endpoint;
  std::string fatal;
  int durable_calls = 0;
  std::unique_ptr<Output> output;

 private:
  bool closed_ = false;
};

std::string segment_bytes(const std::string& dir) {
  std::string out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") {
      out += read_file(e.path().string()).value();
    }
  }
  return out;
}

std::vector<fs::path> files_in(const std::string& dir) {
  std::vector<fs::path> out;
  if (fs::exists(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Occupies every thread of libuv's pool until release(), so that work queued meanwhile
// waits: a test can then act between a callback and the pool work it queued.
class PoolBlocker {
 public:
  explicit PoolBlocker(uv_loop_t* loop) : state_(std::make_shared<State>()) {
    const char* size = getenv("UV_THREADPOOL_SIZE");
    int threads = size != nullptr ? std::clamp(atoi(size), 1, 1024) : 4;
    for (int i = 0; i < threads; ++i) {
      std::shared_ptr<State> state = state_;
      run_on_pool(
          loop,
          [state] {
            std::unique_lock<std::mutex> lock(state->m);
            ++state->started;
            state->cv.notify_all();
            state->cv.wait(lock, [&] { return state->released; });
          },
          [] {});
    }
    std::unique_lock<std::mutex> lock(state_->m);
    state_->cv.wait(lock, [&] { return state_->started == threads; });
  }
  ~PoolBlocker() { release(); }
  PoolBlocker(const PoolBlocker&) = delete;
  PoolBlocker& operator=(const PoolBlocker&) = delete;

  void release() {
    std::lock_guard<std::mutex> lock(state_->m);
    state_->released = true;
    state_->cv.notify_all();
  }

 private:
  struct State {
    std::mutex m;
    std::condition_variable cv;
    int started = 0;
    bool released = false;
  };
  std::shared_ptr<State> state_;
};

// The spool's write(2) while `full` is set fails with ENOSPC, as on a full disk.
struct FullDisk {
  std::shared_ptr<std::atomic<bool>> full = std::make_shared<std::atomic<bool>>(false);
  std::function<ssize_t(int, const void*, size_t)> write_fn() const {
    auto f = full;
    return [f](int fd, const void* data, size_t size) -> ssize_t {
      if (*f) {
        errno = ENOSPC;
        return -1;
      }
      return ::write(fd, data, size);
    };
  }
};

// The ids of the records in the dead-letter files of a folder.
std::set<std::string> dead_letter_ids(const std::string& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) {
    return out;
  }
  for (const auto& e : fs::directory_iterator(dir)) {
    json j = json::parse(read_file(e.path().string()).value(), nullptr, false);
    if (j.is_object() && j["records"].is_array()) {
      for (const auto& r : j["records"]) {
        out.insert(r["id"].get<std::string>());
      }
    }
  }
  return out;
}

std::vector<std::string> ids_of(const std::vector<Record>& records, size_t from, size_t n) {
  std::vector<std::string> out;
  for (size_t i = from; i < from + n; ++i) {
    out.push_back(records[i].id);
  }
  return out;
}

}  // namespace

TEST_CASE("output delivers durable records in order and acknowledges them", "[output]") {
  OutputConfig c = base_config();
  c.batch_max = 3;
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  // The endpoint only ever sees records the spool holds durably.
  int not_durable = 0;
  f.endpoint.on_send = [&](const std::vector<SpoolEntry>& batch) {
    if (f.output->status().spool_records < batch.size()) {
      ++not_durable;
    }
    std::string on_disk = segment_bytes(f.spool_dir());
    for (const SpoolEntry& e : batch) {
      if (on_disk.find(e.payload) == std::string::npos) {
        ++not_durable;
      }
    }
  };
  std::vector<Record> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(event(i));
    REQUIRE(f.output->offer(records.back()));
  }
  CHECK(f.output->unspooled() == 10);
  REQUIRE(f.run_until([&] { return f.output->status().sent == 10 && f.output->drained(); }));
  CHECK(not_durable == 0);
  CHECK(f.endpoint.all_ids() == ids_of(records, 0, 10));
  for (const auto& b : f.endpoint.batches) {
    CHECK(b.ids.size() <= 3);
  }
  CHECK(f.endpoint.batches[0].payloads[0] == records[0].json);
  CHECK(f.durable_calls >= 1);
  CHECK(f.output->unspooled() == 0);
  OutputStatus s = f.output->status();
  CHECK(s.sent == 10);
  CHECK(s.failed == 0);
  CHECK(s.spool_records == 0);
  CHECK(s.last_success.has_value());
  CHECK(s.last_error.empty());
  CHECK(f.fatal.empty());
  CHECK(f.finish() == 0);
}

TEST_CASE("with lanes, records of every kind arrive in emission order", "[output][lanes]") {
  OutputConfig c = base_config();
  c.spool_priority = true;
  c.batch_max = 4;
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.otherwise = outcome(SendOutcome::Kind::kRetry, 503);
  std::vector<Record> records;
  for (int i = 0; i < 12; ++i) {
    records.push_back(i % 3 == 1
                          ? incident("h/c" + std::to_string(i), CheckState::kCritical, 0, false)
                          : event(i));
    REQUIRE(f.output->offer(records.back()));
  }
  REQUIRE(f.run_until([&] { return f.output->status().failed >= 1; }));
  OutputStatus s = f.output->status();
  CHECK(s.priority);
  CHECK(s.high_bytes > 0);
  CHECK(s.low_bytes > 0);
  CHECK(fs::exists(f.spool_dir() + "/high"));
  f.endpoint.otherwise = SendOutcome{};
  REQUIRE(f.run_until([&] { return f.output->status().sent == 12 && f.output->drained(); }));
  // Refused batches were sent again from their first record: each id, the first time
  // it was sent, comes in emission order.
  std::vector<std::string> first_sent;
  for (const std::string& id : f.endpoint.all_ids()) {
    if (std::find(first_sent.begin(), first_sent.end(), id) == first_sent.end()) {
      first_sent.push_back(id);
    }
  }
  CHECK(first_sent == ids_of(records, 0, 12));
  CHECK(f.finish() == 0);
}

TEST_CASE(
    "while a batch is on the wire the next is read, and goes out before the first's "
    "acknowledgement is stored, one request at a time",
    "[output]") {
  OutputConfig c = base_config();
  c.batch_max = 10;
  c.flush_interval = milliseconds(1000);  // every record is spooled before the first send
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  std::vector<Record> records;
  for (int i = 0; i < 30; ++i) {
    records.push_back(event(i));
    f.output->enqueue(records.back());
  }
  // Never two requests at once: each batch goes out after the one before was answered.
  size_t overlapping = 0;
  f.endpoint.on_send = [&](const std::vector<SpoolEntry>&) {
    overlapping += f.endpoint.answered.size() + 1 < f.endpoint.batches.size() ? 1 : 0;
  };
  f.endpoint.hold = true;
  REQUIRE(f.run_until([&] { return f.endpoint.batches.size() == 1; }));
  // The pool takes work in order: once this blocker holds every thread, the read of
  // the second batch, queued when the first went out, is done; no acknowledgement
  // can be stored from now on.
  auto blocker = std::make_unique<PoolBlocker>(f.loop.get());
  f.endpoint.release();
  REQUIRE(f.run_until([&] { return f.endpoint.batches.size() == 2; }));
  CHECK(f.endpoint.batches[1].ids == ids_of(records, 10, 10));
  CHECK(f.output->status().spool_records == 30);  // the first batch's ack waits for the pool
  CHECK(f.output->status().sent == 0);
  blocker.reset();
  f.endpoint.hold = false;
  f.endpoint.release();
  REQUIRE(f.run_until([&] { return f.output->status().sent == 30 && f.output->drained(); }));
  CHECK(f.endpoint.all_ids() == ids_of(records, 0, 30));
  CHECK(overlapping == 0);
  CHECK(f.output->status().spool_records == 0);
  CHECK(f.fatal.empty());
  CHECK(f.finish() == 0);
}

// Batches of five, and records that are all spooled before the first send.
OutputConfig batches_of_five() {
  OutputConfig c = base_config();
  c.batch_max = 5;
  c.flush_interval = milliseconds(1000);
  return c;
}

// Enqueues events 0 to n - 1 and returns them.
std::vector<Record> enqueue_events(Fixture& f, int n) {
  std::vector<Record> records;
  for (int i = 0; i < n; ++i) {
    records.push_back(event(i));
    f.output->enqueue(records.back());
  }
  return records;
}

TEST_CASE("a failed batch is sent again from its first record before what was read after it",
          "[output]") {
  Fixture f(batches_of_five());
  REQUIRE(f.output->open().ok());
  // Accepted, refused with 503 (the third batch has been read meanwhile), then accepted.
  f.endpoint.script = {SendOutcome{}, outcome(SendOutcome::Kind::kRetry, 503)};
  std::vector<Record> records = enqueue_events(f, 15);
  REQUIRE(f.run_until([&] { return f.output->status().sent == 15 && f.output->drained(); }));
  REQUIRE(f.endpoint.batches.size() == 4);
  CHECK(f.endpoint.batches[0].ids == ids_of(records, 0, 5));
  CHECK(f.endpoint.batches[1].ids == ids_of(records, 5, 5));
  CHECK(f.endpoint.batches[2].ids == ids_of(records, 5, 5));
  CHECK(f.endpoint.batches[3].ids == ids_of(records, 10, 5));
  CHECK(f.output->status().failed == 1);
  CHECK(f.finish() == 0);
}

TEST_CASE("output retries a batch with the same ids after a backoff", "[output]") {
  OutputConfig c = base_config();
  c.flush_interval = milliseconds(300);  // both records are spooled before the first send
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.script = {outcome(SendOutcome::Kind::kRetry, 503)};
  std::vector<Record> records = {event(1), event(2)};
  for (const Record& r : records) {
    f.output->enqueue(r);
  }
  REQUIRE(f.run_until([&] { return f.output->status().failed == 1; }));
  // While it waits, the batch stays spooled.
  CHECK(f.output->status().spool_records == 2);
  CHECK(f.output->status().last_error == "HTTP 503");
  REQUIRE(f.run_until([&] { return f.output->status().sent == 2 && f.output->drained(); }));
  REQUIRE(f.endpoint.batches.size() == 2);
  size_t first = f.endpoint.batches[0].ids.size();
  CHECK(first == 2);
  CHECK(f.endpoint.batches[1].ids == f.endpoint.batches[0].ids);
  // Backoff: half to all of the first step (retry_max caps it at 100 ms).
  CHECK(f.endpoint.batches[1].at - f.endpoint.answered[0] >= milliseconds(45));
  OutputStatus s = f.output->status();
  CHECK(s.sent == 2);
  CHECK(s.failed == 1);
  CHECK(f.finish() == 0);
}

TEST_CASE("a send that fails before it returns waits out the backoff with reads queued behind it",
          "[output]") {
  Fixture f(batches_of_five());
  REQUIRE(f.output->open().ok());
  f.endpoint.at_once = true;
  f.endpoint.script = {outcome(SendOutcome::Kind::kRetry, 503)};
  enqueue_events(f, 15);
  REQUIRE(f.run_until([&] { return f.output->status().sent == 15 && f.output->drained(); }));
  CHECK(f.output->status().failed == 1);
  REQUIRE(f.endpoint.batches.size() == 4);
  CHECK(f.endpoint.batches[1].ids == f.endpoint.batches[0].ids);
  CHECK(f.endpoint.batches[1].at - f.endpoint.batches[0].at >= milliseconds(45));
  CHECK(f.finish() == 0);
}

TEST_CASE("output honours Retry-After beyond its own backoff", "[output]") {
  Fixture f(base_config());  // retry_max 100 ms: without Retry-After it would retry sooner
  REQUIRE(f.output->open().ok());
  f.endpoint.script = {outcome(SendOutcome::Kind::kRetry, 429, "", milliseconds(300))};
  f.output->enqueue(event(1));
  REQUIRE(f.run_until([&] { return f.output->drained() && f.endpoint.batches.size() >= 2; }));
  REQUIRE(f.endpoint.batches.size() == 2);
  // The retry timer starts from the loop's cached millisecond clock, which may
  // lag the moment the answer was seen by up to a couple of milliseconds.
  CHECK(f.endpoint.batches[1].at - f.endpoint.answered[0] >= milliseconds(297));
  CHECK(f.endpoint.batches[1].ids == f.endpoint.batches[0].ids);
  CHECK(f.finish() == 0);
}

TEST_CASE("output splits a batch refused with 413 and sends the first half first", "[output]") {
  OutputConfig c = base_config();
  c.batch_max = 4;
  c.flush_interval = milliseconds(1000);  // all four are spooled before the first send
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.script = {outcome(SendOutcome::Kind::kSplit, 413)};
  std::vector<Record> records;
  for (int i = 0; i < 4; ++i) {
    records.push_back(event(i));
    f.output->enqueue(records.back());
  }
  REQUIRE(f.run_until([&] { return f.output->status().sent == 4 && f.output->drained(); }));
  REQUIRE(f.endpoint.batches.size() == 3);
  CHECK(f.endpoint.batches[0].ids == ids_of(records, 0, 4));
  CHECK(f.endpoint.batches[1].ids == ids_of(records, 0, 2));
  CHECK(f.endpoint.batches[2].ids == ids_of(records, 2, 2));
  OutputStatus s = f.output->status();
  CHECK(s.sent == 4);
  CHECK(s.failed == 1);
  CHECK(s.dead_lettered == 0);
  CHECK(files_in(f.dead_dir()).empty());
  CHECK(f.finish() == 0);
}

TEST_CASE("output moves a single record still refused with 413 to dead letters", "[output]") {
  Fixture f(base_config());
  REQUIRE(f.output->open().ok());
  f.endpoint.script = {outcome(SendOutcome::Kind::kSplit, 413, "too large")};
  Record r = event(1);
  f.output->enqueue(r);
  REQUIRE(
      f.run_until([&] { return f.output->status().dead_lettered == 1 && f.output->drained(); }));
  auto files = files_in(f.dead_dir());
  REQUIRE(files.size() == 1);
  json j = json::parse(read_file(files[0].string()).value(), nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["status"] == 413);
  CHECK(j["records"] == json::array({json::parse(r.json)}));
  CHECK(f.endpoint.batches.size() == 1);
  CHECK(f.finish() == 0);
}

TEST_CASE("output writes a refused batch to dead letters and delivers later records", "[output]") {
  Fixture f(base_config());
  REQUIRE(f.output->open().ok());
  std::string reply = "invalid field: " + std::string(5000, 'x');
  f.endpoint.script = {outcome(SendOutcome::Kind::kDeadLetter, 400, reply)};
  Record a = event(1);
  std::string before = format_compact_utc(std::chrono::system_clock::now());
  f.output->enqueue(a);
  REQUIRE(f.run_until([&] { return f.output->status().dead_lettered == 1; }));
  std::string after = format_compact_utc(std::chrono::system_clock::now());

  Record b = event(2);
  f.output->enqueue(b);
  REQUIRE(f.run_until([&] { return f.output->status().sent == 1 && f.output->drained(); }));
  CHECK(f.endpoint.batches.back().ids == std::vector<std::string>{b.id});

  auto files = files_in(f.dead_dir());
  REQUIRE(files.size() == 1);
  std::string name = files[0].filename().string();
  std::smatch m;
  REQUIRE(std::regex_match(name, m, std::regex(R"((\d{8}T\d{6}\.\d{3}Z)-(.+)\.json)")));
  CHECK(m[1].str() >= before);
  CHECK(m[1].str() <= after);
  CHECK(m[2].str() == a.id);
  json j = json::parse(read_file(files[0].string()).value(), nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["status"] == 400);
  CHECK(j["reply"] == reply.substr(0, 4096));
  CHECK(j["records"] == json::array({json::parse(a.json)}));

  OutputStatus s = f.output->status();
  CHECK(s.dead_lettered == 1);
  CHECK(s.sent == 1);
  CHECK(s.failed == 1);
  CHECK(s.dropped == 0);
  CHECK(s.last_error == "HTTP 400");
  CHECK(f.finish() == 0);
}

TEST_CASE("output caps its dead letters at spool_max and counts removed records as dropped",
          "[output]") {
  OutputConfig c = base_config();
  c.spool_max = 4096;
  c.batch_max = 1;
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.otherwise = outcome(SendOutcome::Kind::kDeadLetter, 422, "no");
  std::vector<Record> records;
  // One record at a time, so the small spool itself never has to drop any.
  for (int i = 0; i < 4; ++i) {
    records.push_back(event(i, 1500));
    f.output->enqueue(records.back());
    REQUIRE(f.run_until([&] {
      return f.output->status().dead_lettered == static_cast<uint64_t>(i + 1) &&
             f.output->drained();
    }));
  }
  auto files = files_in(f.dead_dir());
  uint64_t total = 0;
  for (const auto& p : files) {
    total += fs::file_size(p);
  }
  CHECK(total <= 4096);
  // Each file is a little over 1.5 KiB: the newest two remain.
  REQUIRE(files.size() == 2);
  for (size_t i = 0; i < files.size(); ++i) {
    std::string name = files[i].filename().string();
    CHECK(name.find(records[2 + i].id) != std::string::npos);
  }
  OutputStatus s = f.output->status();
  CHECK(s.dead_lettered == 4);
  CHECK(s.dropped == 2);
  CHECK(f.finish() == 0);
}

TEST_CASE("output routing follows send, min_severity, min_level and format", "[output]") {
  OutputConfig c = base_config();
  SECTION("send lists the kinds taken") {
    c.send_event = false;
    c.send_problem = false;
    Fixture f(c);
    CHECK_FALSE(f.output->offer(of_kind(RecordKind::kEvent)));
    CHECK_FALSE(f.output->offer(of_kind(RecordKind::kProblem)));
    CHECK(f.output->offer(of_kind(RecordKind::kHeartbeat)));
    CHECK(f.output->offer(incident("h/a", CheckState::kWarning, 0, false)));
    CHECK(f.finish() == 0);
  }
  SECTION("an output without incidents takes none") {
    c.send_incident = false;
    Fixture f(c);
    CHECK(f.output->offer(of_kind(RecordKind::kEvent)));
    CHECK_FALSE(f.output->offer(incident("h/a", CheckState::kCritical, 3, false)));
    CHECK(f.finish() == 0);
  }
  SECTION("min_severity, with unknown ranking as warning") {
    c.min_severity = CheckState::kCritical;
    Fixture f(c);
    CHECK_FALSE(f.output->offer(incident("h/w", CheckState::kWarning, 0, false)));
    CHECK_FALSE(f.output->offer(incident("h/u", CheckState::kUnknown, 0, false)));
    CHECK_FALSE(f.output->offer(incident("h/w", CheckState::kWarning, 0, true)));
    // Events are not filtered by severity.
    CHECK(f.output->offer(of_kind(RecordKind::kEvent)));
    // Once an incident reached the output, it follows it down to its resolve.
    CHECK(f.output->offer(incident("h/c", CheckState::kCritical, 0, false)));
    CHECK(f.output->offer(incident("h/c", CheckState::kWarning, 0, false)));
    CHECK(f.output->offer(incident("h/c", CheckState::kWarning, 0, true)));
    // A new incident of that key starts afresh.
    CHECK_FALSE(f.output->offer(incident("h/c", CheckState::kWarning, 0, false)));
    CHECK(f.finish() == 0);
  }
  SECTION("asking does not remember; taking does") {
    c.min_severity = CheckState::kCritical;
    Fixture f(c);
    Record critical = incident("h/x", CheckState::kCritical, 0, false);
    Record warning = incident("h/x", CheckState::kWarning, 0, false);
    CHECK(f.output->accepts(critical));
    CHECK_FALSE(f.output->accepts(warning));  // asking about the first did not take it
    CHECK(f.output->offer(critical));
    CHECK(f.output->accepts(warning));  // taken: the rest of its life follows
    CHECK(f.finish() == 0);
  }
  SECTION("the default min_severity takes unknown") {
    Fixture f(c);
    CHECK(f.output->offer(incident("h/u", CheckState::kUnknown, 0, false)));
    CHECK(f.output->offer(incident("h/w", CheckState::kWarning, 0, false)));
    CHECK(f.finish() == 0);
  }
  SECTION("min_level takes an incident from the level reached to its resolve") {
    c.min_level = 1;
    Fixture f(c);
    CHECK_FALSE(f.output->offer(incident("h/a", CheckState::kCritical, 0, false)));
    CHECK_FALSE(f.output->offer(incident("h/a", CheckState::kWarning, 0, false)));
    CHECK(f.output->offer(incident("h/a", CheckState::kWarning, 1, false)));
    CHECK(f.output->offer(incident("h/a", CheckState::kCritical, 1, false)));
    CHECK(f.output->offer(incident("h/a", CheckState::kOk, 1, true)));
    CHECK_FALSE(f.output->offer(incident("h/a", CheckState::kCritical, 0, false)));
    // An incident resolved before reaching the level never reaches the output.
    CHECK_FALSE(f.output->offer(incident("h/b", CheckState::kCritical, 0, true)));
    CHECK(f.finish() == 0);
  }
  SECTION("pagerduty and alertmanager take incidents only, whatever send says") {
    c.format = GENERATE(OutputFormat::kPagerDuty, OutputFormat::kAlertmanager);
    c.send_incident = false;
    Fixture f(c);
    CHECK_FALSE(f.output->offer(of_kind(RecordKind::kEvent)));
    CHECK_FALSE(f.output->offer(of_kind(RecordKind::kProblem)));
    CHECK_FALSE(f.output->offer(of_kind(RecordKind::kHeartbeat)));
    CHECK(f.output->offer(incident("h/a", CheckState::kWarning, 0, false)));
    CHECK(f.finish() == 0);
  }
}

// A silenced incident record (docs/SILENCES.md), or an ack.
Record muted(const std::string& key, bool silenced, bool resolved = false, bool ack = false) {
  Record r = incident(key, CheckState::kCritical, 0, resolved);
  r.silenced = silenced;
  r.ack = ack;
  return r;
}

TEST_CASE("silenced = skip leaves silenced incidents out until their silence ends",
          "[output][silences]") {
  OutputConfig c = base_config();
  c.skip_silenced = true;
  Fixture f(c);
  SECTION("a muted incident is taken from the update that unmutes it") {
    CHECK_FALSE(f.output->offer(muted("h/a", true)));               // open
    CHECK_FALSE(f.output->offer(muted("h/a", true)));               // escalate
    CHECK_FALSE(f.output->offer(muted("h/a", true, false, true)));  // ack: never seen
    CHECK(f.output->offer(muted("h/a", false)));                    // update, silenced false
    CHECK(f.output->offer(muted("h/a", false, true)));              // its resolve
  }
  SECTION("a muted incident that resolves muted is never sent") {
    CHECK_FALSE(f.output->offer(muted("h/b", true)));
    CHECK_FALSE(f.output->offer(muted("h/b", true, true)));
  }
  SECTION("an incident the receiver holds gets its resolve and ack, nothing else, while muted") {
    CHECK(f.output->offer(muted("h/c", false)));
    CHECK_FALSE(f.output->offer(muted("h/c", true)));  // the update that mutes it
    CHECK(f.output->offer(muted("h/c", true, false, true)));
    CHECK(f.output->offer(muted("h/c", true, true)));
  }
  CHECK(f.finish() == 0);
}

TEST_CASE("silenced = send takes silenced incidents like any", "[output][silences]") {
  Fixture f(base_config());
  CHECK(f.output->offer(muted("h/a", true)));
  CHECK(f.output->offer(muted("h/a", true, false, true)));
  CHECK(f.output->offer(muted("h/a", true, true)));
  CHECK(f.finish() == 0);
}

TEST_CASE("alertmanager takes no ack", "[output][silences]") {
  OutputConfig c = base_config();
  c.format = GENERATE(OutputFormat::kAlertmanager, OutputFormat::kPagerDuty);
  Fixture f(c);
  CHECK(f.output->offer(muted("h/a", false)));
  CHECK(f.output->offer(muted("h/a", false, false, true)) ==
        (c.format == OutputFormat::kPagerDuty));
  CHECK(f.finish() == 0);
}

TEST_CASE("output keeps following an incident across a reconfigure", "[output]") {
  OutputConfig c = base_config();
  c.min_severity = CheckState::kCritical;
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  CHECK(f.output->offer(incident("h/c", CheckState::kCritical, 0, false)));
  f.output->reconfigure(c, std::make_unique<ScriptedSink>(f.loop.get(), &f.endpoint));
  // The receiver holds this incident open: it must see the rest of its life.
  CHECK(f.output->offer(incident("h/c", CheckState::kWarning, 0, false)));
  CHECK(f.output->offer(incident("h/c", CheckState::kWarning, 0, true)));
  CHECK(f.finish() == 0);
}

TEST_CASE("output status counts failures and shows the spool while the endpoint is down",
          "[output]") {
  OutputConfig c = base_config();
  c.url = "https://alice:s3cret@example.com:8443/v1/ingest";
  c.format = OutputFormat::kVigil;
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.otherwise = outcome(SendOutcome::Kind::kRetry, 503);
  for (int i = 0; i < 3; ++i) {
    f.output->enqueue(event(i));
  }
  REQUIRE(f.run_until([&] { return f.output->status().failed >= 2; }));
  OutputStatus s = f.output->status();
  CHECK(s.name == "main");
  CHECK(s.url == "https://example.com:8443/v1/ingest");
  CHECK(s.format == "vigil");
  CHECK(s.spool_records == 3);
  CHECK(s.spool_bytes > 0);
  CHECK(s.sent == 0);
  CHECK(s.dropped == 0);
  CHECK(s.last_error == "HTTP 503");
  CHECK_FALSE(s.last_success.has_value());
  CHECK_FALSE(f.output->drained());
  CHECK(f.finish() == 0);
}

TEST_CASE("output status never shows credentials of its url", "[output]") {
  auto [url, shown] = GENERATE(table<std::string, std::string>({
      {"https://alice:s3cret@example.com/x", "https://example.com/x"},
      {"http://token@10.0.0.1:8080", "http://10.0.0.1:8080"},
      {"https://u:p@host?next=/a", "https://host?next=/a"},
      {"https://host/path@v2", "https://host/path@v2"},
      {"https://host?to=a@b", "https://host?to=a@b"},
      {"stdout", "stdout"},
      {"file:/var/log/vigil.jsonl", "file:/var/log/vigil.jsonl"},
  }));
  OutputConfig c = base_config();
  c.url = url;
  Fixture f(c);
  CHECK(f.output->status().url == shown);
  CHECK(f.finish() == 0);
}

TEST_CASE("output reopens its spool and sends what an earlier run left", "[output]") {
  test::TempDir shared;
  std::vector<Record> records = {event(1), event(2)};
  {
    test::TestLoop loop;
    Endpoint endpoint;
    endpoint.otherwise = outcome(SendOutcome::Kind::kRetry, 503);
    {
      Output out(loop.get(), base_config(), shared.path(),
                 std::make_unique<ScriptedSink>(loop.get(), &endpoint), [](const std::string&) {});
      REQUIRE(out.open().ok());
      for (const Record& r : records) {
        out.enqueue(r);
      }
      REQUIRE(loop.run_until([&] { return out.status().failed >= 1; }));
      out.stop();
    }
    CHECK(loop.close() == 0);
  }
  test::TestLoop loop;
  Endpoint endpoint;
  {
    Output out(loop.get(), base_config(), shared.path(),
               std::make_unique<ScriptedSink>(loop.get(), &endpoint), [](const std::string&) {});
    REQUIRE(out.open().ok());
    REQUIRE(loop.run_until([&] { return out.drained() && !endpoint.batches.empty(); }));
    CHECK(endpoint.all_ids() == ids_of(records, 0, 2));
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("a liveness token holds until the liveness is renewed or gone", "[output]") {
  auto life = std::make_unique<Liveness>();
  Liveness::Token before = life->guard();
  CHECK(before.valid());
  life->renew();
  CHECK_FALSE(before.valid());
  Liveness::Token after = life->guard();
  CHECK(after.valid());
  life.reset();
  CHECK_FALSE(after.valid());
}

TEST_CASE("a reload that changes nothing delivery reads leaves delivery alone", "[output]") {
  OutputConfig c = base_config();
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.hold = true;
  std::vector<Record> records = {event(1), event(2), event(3)};
  for (const Record& r : records) {
    f.output->enqueue(r);
  }
  REQUIRE(f.run_until([&] { return f.endpoint.release != nullptr; }));  // in flight
  OutputConfig same = c;
  const bool routing_changed = GENERATE(false, true);
  if (routing_changed) {
    same.min_severity = CheckState::kCritical;
    same.min_level = 2;
    same.send_heartbeat = false;
  }
  Endpoint other;
  f.output->reconfigure(same, std::make_unique<ScriptedSink>(f.loop.get(), &other));
  CHECK(f.output->config().min_level == same.min_level);
  std::exchange(f.endpoint.release, nullptr)();
  REQUIRE(f.run_until([&] { return f.output->status().sent == 3 && f.output->drained(); }));
  // The batch in flight was acknowledged, not sent again; the new sink was not used.
  REQUIRE(f.endpoint.batches.size() == 1);
  CHECK(f.endpoint.batches[0].ids == ids_of(records, 0, 3));
  CHECK(other.batches.empty());
  CHECK(f.finish() == 0);
}

TEST_CASE("a reload that changes delivery sends the batch in flight again with the new sink",
          "[output]") {
  OutputConfig c = base_config();
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.hold = true;
  std::vector<Record> records = {event(1), event(2), event(3)};
  for (const Record& r : records) {
    f.output->enqueue(r);
  }
  REQUIRE(f.run_until([&] { return f.endpoint.release != nullptr; }));
  f.endpoint.release = nullptr;  // the old sink goes with the reload: never answered
  OutputConfig changed = c;
  changed.timeout = c.timeout + milliseconds(1);
  Endpoint other;
  f.output->reconfigure(changed, std::make_unique<ScriptedSink>(f.loop.get(), &other));
  REQUIRE(f.run_until([&] { return f.output->status().sent == 3 && f.output->drained(); }));
  CHECK(f.endpoint.batches.size() == 1);
  CHECK(other.all_ids() == ids_of(records, 0, 3));
  CHECK(f.finish() == 0);
}

// The loss of the reload race: a dead letter still being written when a reload
// restarted delivery used to acknowledge records of the new generation's batch.
TEST_CASE("a dead letter that ends after a reload acknowledges nothing and loses nothing",
          "[output]") {
  OutputConfig c = base_config();
  c.flush_interval = milliseconds(300);  // the first five are spooled before the first send
  Fixture f(c);
  REQUIRE(f.output->open().ok());
  f.endpoint.hold = true;
  f.endpoint.script = {outcome(SendOutcome::Kind::kDeadLetter, 400, "bad")};
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i) {
    records.push_back(event(i));
    f.output->enqueue(records.back());
  }
  REQUIRE(f.run_until([&] { return f.endpoint.release != nullptr; }));
  auto blocker = std::make_unique<PoolBlocker>(f.loop.get());
  f.endpoint.hold = false;
  std::exchange(f.endpoint.release, nullptr)();
  // The 400 came; its dead letter waits for the pool. Meanwhile: a reload, more records.
  REQUIRE(f.run_until([&] { return f.output->status().failed == 1; }));
  OutputConfig changed = c;
  changed.timeout = c.timeout + milliseconds(1);
  Endpoint other;
  other.script = {outcome(SendOutcome::Kind::kRetry, 503), outcome(SendOutcome::Kind::kRetry, 503)};
  f.output->reconfigure(changed, std::make_unique<ScriptedSink>(f.loop.get(), &other));
  for (int i = 5; i < 10; ++i) {
    records.push_back(event(i));
    f.output->enqueue(records.back());
  }
  blocker->release();
  REQUIRE(f.run_until([&] {
    return f.output->drained() && f.output->status().spool_records == 0 &&
           other.answered.size() >= 3;
  }));
  std::set<std::string> delivered;
  for (size_t i = 0; i < other.batches.size(); ++i) {
    if (i >= 2) {  // the two 503s delivered nothing
      delivered.insert(other.batches[i].ids.begin(), other.batches[i].ids.end());
    }
  }
  std::set<std::string> dead = dead_letter_ids(f.dead_dir());
  for (const Record& r : records) {
    INFO(r.id);
    CHECK((delivered.count(r.id) + dead.count(r.id)) > 0);
  }
  // The stale letter acknowledged nothing: its records went out again.
  std::vector<std::string> first_batch = ids_of(records, 0, 5);
  CHECK(dead == std::set<std::string>(first_batch.begin(), first_batch.end()));
  CHECK(delivered.size() == records.size());
  blocker.reset();
  CHECK(f.finish() == 0);
}

TEST_CASE("records the disk has no room for are held, delivered, and spooled later", "[output]") {
  OutputConfig c = base_config();
  c.flush_interval = milliseconds(10);
  Fixture f(c);
  FullDisk disk;
  f.output->set_spool_write_fn(disk.write_fn());
  REQUIRE(f.output->open().ok());
  f.output->enqueue(event(0));
  REQUIRE(f.run_until([&] { return f.output->status().sent == 1 && f.output->drained(); }));
  *disk.full = true;

  SECTION("an endpoint that takes them gets them from memory") {
    std::vector<Record> records;
    for (int i = 1; i <= 5; ++i) {
      records.push_back(event(i));
      f.output->enqueue(records.back());
    }
    REQUIRE(f.run_until([&] { return f.output->status().sent == 6; }));
    std::vector<std::string> all = f.endpoint.all_ids();
    REQUIRE(all.size() == 6);
    CHECK(std::vector<std::string>(all.begin() + 1, all.end()) == ids_of(records, 0, 5));
    OutputStatus s = f.output->status();
    CHECK(s.memory_records == 0);
    CHECK(s.dropped == 0);
    CHECK(s.spool_records == 0);
    // Delivered is no longer pending; the disk is still full all the same.
    CHECK(f.output->unspooled() == 0);
    CHECK(f.output->drained());
    CHECK(s.storage_error == "spool " + f.spool_dir() + ": No space left on device");
    *disk.full = false;
    f.output->enqueue(event(6));
    REQUIRE(f.run_until([&] { return f.output->status().sent == 7 && f.output->drained(); }));
    CHECK(f.output->status().storage_error.empty());
  }

  SECTION("a down endpoint: they stay pending in memory until the disk has room") {
    f.endpoint.otherwise = outcome(SendOutcome::Kind::kRetry, 503);
    std::vector<Record> records;
    for (int i = 1; i <= 5; ++i) {
      records.push_back(event(i));
      f.output->enqueue(records.back());
    }
    REQUIRE(f.run_until(
        [&] { return f.output->status().memory_records == 5 && f.output->status().failed >= 1; }));
    OutputStatus s = f.output->status();
    CHECK(s.spool_records == 0);
    CHECK(s.dropped == 0);
    CHECK(s.storage_error == "spool " + f.spool_dir() + ": No space left on device");
    CHECK(f.output->unspooled() == 5);
    CHECK_FALSE(f.output->drained());
    int durable_before = f.durable_calls;
    *disk.full = false;
    // The hold timer offers them to the spool again.
    REQUIRE(f.run_until([&] {
      return f.output->status().spool_records == 5 && f.output->status().memory_records == 0;
    }));
    s = f.output->status();
    CHECK(s.memory_records == 0);
    CHECK(s.storage_error.empty());
    CHECK(f.output->unspooled() == 0);
    CHECK(f.durable_calls > durable_before);
    f.endpoint.otherwise = outcome(SendOutcome::Kind::kAck, 200);
    REQUIRE(f.run_until([&] { return f.output->status().sent == 6 && f.output->drained(); }));
    std::vector<std::string> first_seen;
    for (const std::string& id : f.endpoint.all_ids()) {
      if (std::find(first_seen.begin(), first_seen.end(), id) == first_seen.end()) {
        first_seen.push_back(id);
      }
    }
    REQUIRE(first_seen.size() == 6);
    CHECK(std::vector<std::string>(first_seen.begin() + 1, first_seen.end()) ==
          ids_of(records, 0, 5));
  }
  CHECK(f.fatal.empty());
  CHECK(f.finish() == 0);
}

TEST_CASE("held records go after the spooled ones, in order", "[output]") {
  OutputConfig c = base_config();
  c.batch_max = 2;
  Fixture f(c);
  FullDisk disk;
  f.output->set_spool_write_fn(disk.write_fn());
  REQUIRE(f.output->open().ok());
  f.endpoint.otherwise = outcome(SendOutcome::Kind::kRetry, 503);
  std::vector<Record> records;
  for (int i = 0; i < 4; ++i) {
    records.push_back(event(i));
    f.output->enqueue(records.back());
  }
  REQUIRE(f.run_until([&] { return f.output->status().spool_records == 4; }));
  *disk.full = true;
  for (int i = 4; i < 8; ++i) {
    records.push_back(event(i));
    f.output->enqueue(records.back());
  }
  REQUIRE(f.run_until([&] { return f.output->status().memory_records == 4; }));
  f.endpoint.otherwise = outcome(SendOutcome::Kind::kAck, 200);
  REQUIRE(f.run_until([&] { return f.output->status().sent == 8; }));
  // In the order each id was first sent: the spooled ones, then the held ones.
  std::vector<std::string> first_sent;
  for (const std::string& id : f.endpoint.all_ids()) {
    if (std::find(first_sent.begin(), first_sent.end(), id) == first_sent.end()) {
      first_sent.push_back(id);
    }
  }
  CHECK(first_sent == ids_of(records, 0, 8));
  CHECK(f.output->status().dropped == 0);
  CHECK(f.finish() == 0);
}

TEST_CASE("records held in memory are bounded, and spool_full decides beyond the bound",
          "[output]") {
  OutputConfig c = base_config();
  c.spool_max = 8192;  // memory for held records: 8 KiB too
  c.drop_newest = GENERATE(false, true);
  Fixture f(c);
  FullDisk disk;
  *disk.full = true;
  f.output->set_spool_write_fn(disk.write_fn());
  REQUIRE(f.output->open().ok());
  f.endpoint.otherwise = outcome(SendOutcome::Kind::kRetry, 503);
  std::vector<Record> records;
  for (int i = 0; i < 8; ++i) {
    records.push_back(event(i, 2500));  // about 2.6 KiB each: three fit
    f.output->enqueue(records.back());
    REQUIRE(
        f.run_until([&] { return f.output->unspooled() == f.output->status().memory_records; }));
  }
  OutputStatus s = f.output->status();
  CHECK(s.memory_records == 3);
  CHECK(s.dropped == 5);
  CHECK(f.output->unspooled() == 3);
  *disk.full = false;
  f.endpoint.otherwise = outcome(SendOutcome::Kind::kAck, 200);
  REQUIRE(f.run_until([&] { return f.output->drained() && f.output->status().sent >= 3; }));
  std::vector<std::string> sent = f.endpoint.all_ids();
  std::set<std::string> got(sent.begin(), sent.end());
  // drop_oldest kept the newest three, drop_newest the oldest three.
  std::vector<std::string> kept = c.drop_newest ? ids_of(records, 0, 3) : ids_of(records, 5, 3);
  for (const std::string& id : kept) {
    CHECK(got.count(id) == 1);
  }
  CHECK(f.finish() == 0);
}

TEST_CASE("an output on a really full disk holds records and spools them once it has room",
          "[output][tmpfs]") {
  test::TempDir tmp;
  std::string state = tmp.file("fs");
  fs::create_directories(state);
  if (mount("tmpfs", state.c_str(), "tmpfs", 0, "size=512k,mode=0755") != 0) {
    WARN("cannot mount a tmpfs (needs root): " << strerror(errno));
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{state};
  test::TestLoop loop;
  Endpoint endpoint;
  endpoint.otherwise = outcome(SendOutcome::Kind::kRetry, 503);
  std::string fatal;
  {
    OutputConfig c = base_config();  // 1 MiB spool: 128 KiB segments and reserve
    Output out(loop.get(), c, state, std::make_unique<ScriptedSink>(loop.get(), &endpoint),
               [&](const std::string& e) { fatal = e; });
    REQUIRE(out.open().ok());
    out.enqueue(event(0));
    REQUIRE(loop.run_until([&] { return out.status().spool_records == 1; }));
    // Another program fills the disk.
    std::string filler = state + "/filler";
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    std::string chunk(4096, '\0');
    while (::write(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd);
    // The reserve takes records for a while; then they are held in memory.
    int n = 1;
    REQUIRE(loop.run_until([&] {
      if (out.status().memory_records == 0) {
        for (int k = 0; k < 10; ++k) {
          out.enqueue(event(n++, 400));
        }
      }
      return out.status().memory_records > 0;
    }));
    OutputStatus s = out.status();
    CHECK(s.spool_records > 1);  // the reserve was used
    CHECK(s.dropped == 0);
    CHECK(s.storage_error == "spool " + state + "/spool/main: No space left on device");
    uint64_t total = s.spool_records + s.memory_records;
    unlink(filler.c_str());
    REQUIRE(loop.run_until([&] { return out.status().memory_records == 0; }));
    s = out.status();
    CHECK(s.spool_records == total);
    CHECK(s.storage_error.empty());
    CHECK(out.unspooled() == 0);
    endpoint.otherwise = outcome(SendOutcome::Kind::kAck, 200);
    REQUIRE(loop.run_until([&] { return out.drained() && out.status().sent == total; }));
    CHECK(out.status().dropped == 0);
    CHECK(fatal.empty());
  }
  CHECK(loop.close() == 0);
}

// An incident record as the incident manager makes it, with what the Alertmanager
// output reads: `incident_id`, `status`, and `v` to tell versions apart.
Record am_incident(const std::string& id, const std::string& action, CheckState severity,
                   int v = 0) {
  Record r = incident("h/" + id, severity, 0, action == "resolve");
  r.json = json{
      {"kind", "incident"},
      {"id", r.id},
      {"incident_id", id},
      {"key", r.key},
      {"action", action},
      {"status", action == "resolve" ? "resolved" : "open"},
      {"v", v}}.dump();
  return r;
}

bool carries(const Endpoint::Batch& b, const Record& r) {
  return std::find(b.payloads.begin(), b.payloads.end(), r.json) != b.payloads.end();
}

TEST_CASE("an alertmanager backlog after an outage is sent as the incidents are now",
          "[output][alert_state]") {
  OutputConfig c = base_config();
  c.format = OutputFormat::kAlertmanager;
  c.batch_max = 2;
  c.flush_interval = milliseconds(300);  // the three records are spooled before the first send
  Fixture f(c);
  // The incident manager's open incidents, as it would render them now.
  Record b_then = am_incident("b", "update", CheckState::kWarning, 1);
  Record b_now = am_incident("b", "update", CheckState::kCritical, 2);
  std::vector<Record> open = {b_then};
  f.output->set_state_provider([&] { return open; });
  REQUIRE(f.output->open().ok());
  // While the endpoint is down, a opens and resolves, b opens; b turns critical
  // before the retry.
  f.endpoint.script = {outcome(SendOutcome::Kind::kRetry, 503)};
  f.endpoint.on_send = [&](const std::vector<SpoolEntry>&) { open = {b_now}; };
  Record a_open = am_incident("a", "open", CheckState::kCritical);
  Record b_open = am_incident("b", "open", CheckState::kWarning);
  Record a_resolve = am_incident("a", "resolve", CheckState::kCritical);
  for (const Record& r : {a_open, b_open, a_resolve}) {
    REQUIRE(f.output->offer(r));
  }
  REQUIRE(f.run_until([&] { return f.output->drained() && f.output->status().sent == 3; }));
  REQUIRE(f.endpoint.batches.size() >= 2);
  // Each attempt is built when it is made: first b as it was, then b as it is.
  CHECK(f.endpoint.batches[0].payloads == std::vector<std::string>{b_then.json});
  for (size_t i = 0; i < f.endpoint.batches.size(); ++i) {
    INFO("request " << i);
    // A spooled firing state is never sent: a resolved since, b changed since.
    CHECK_FALSE(carries(f.endpoint.batches[i], a_open));
    CHECK_FALSE(carries(f.endpoint.batches[i], b_open));
    if (i > 0) {
      CHECK(carries(f.endpoint.batches[i], b_now));
      CHECK_FALSE(carries(f.endpoint.batches[i], b_then));
    }
  }
  CHECK(carries(f.endpoint.batches.back(), a_resolve));
  CHECK(f.output->status().failed == 1);
  CHECK(f.finish() == 0);
}

TEST_CASE("an alertmanager batch superseded by a later resolve leaves the spool unsent",
          "[output][alert_state]") {
  OutputConfig c = base_config();
  c.format = OutputFormat::kAlertmanager;
  c.batch_max = 1;
  Fixture f(c);
  f.output->set_state_provider([] { return std::vector<Record>{}; });
  REQUIRE(f.output->open().ok());
  Record a_open = am_incident("a", "open", CheckState::kCritical);
  Record a_resolve = am_incident("a", "resolve", CheckState::kCritical);
  REQUIRE(f.output->offer(a_open));
  REQUIRE(f.output->offer(a_resolve));
  REQUIRE(f.run_until([&] { return f.output->drained() && f.output->status().sent == 2; }));
  // One request, the resolve: the opening would have made a firing alert of an
  // incident that is over.
  REQUIRE(f.endpoint.batches.size() == 1);
  CHECK(f.endpoint.batches[0].payloads == std::vector<std::string>{a_resolve.json});
  CHECK(f.finish() == 0);
}

TEST_CASE("alertmanager state carries no open incident the output does not take",
          "[output][alert_state]") {
  OutputConfig c = base_config();
  c.format = OutputFormat::kAlertmanager;
  c.min_severity = CheckState::kCritical;
  c.skip_silenced = true;
  Fixture f(c);
  Record crit = am_incident("c", "open", CheckState::kCritical);
  Record warn = am_incident("w", "open", CheckState::kWarning);  // below min_severity
  Record muted = am_incident("m", "open", CheckState::kCritical);
  muted.silenced = true;
  f.output->set_state_provider([&] { return std::vector<Record>{crit, warn, muted}; });
  REQUIRE(f.output->open().ok());
  REQUIRE(f.output->offer(crit));
  REQUIRE(f.run_until([&] { return f.output->drained() && f.output->status().sent == 1; }));
  REQUIRE(f.endpoint.batches.size() == 1);
  CHECK(f.endpoint.batches[0].payloads == std::vector<std::string>{crit.json});
  CHECK(f.finish() == 0);
}

}  // namespace vigil
