// Benchmark of delivery (bench/forward builds and runs it): pushes records through
// an Output (its spool, durable appends and acks) and an HttpSink over the real
// HttpClient to an HTTPS endpoint, and times it until the spool is empty.
//
//   forward_bench URL CA_FILE STATE_DIR COUNT RECORD_BYTES GZIP(0|1) [BATCH_MAX] [evict]
//
// `evict`: a full spool with eviction running. spool_max is 8 MiB, far less than the
// records pushed, so the producer outruns the endpoint and the low lane evicts its
// oldest segments all along; one record in 50 is an incident (the high lane). The
// end is then the spool drained of what was not evicted, and the line adds the
// records dropped, the segment files deleted (unlink, wrapped at link time) and the
// slowest eviction: the spool's drop of a segment plus its unlink.
//
// A producer enqueues 1,000 records per loop iteration (the output group-commits
// what piles up while an append runs). Prints one line of key=value figures: the
// records, seconds, records/s, record bytes/s, the fdatasync and fsync calls per
// second and the seconds spent in them (counted by wrapping the calls at link
// time, on the pool's threads), the requests and the seconds from each send to
// its reply, and this process's CPU seconds. The output keeps one batch in
// flight: per batch, a peek, one request and one durable ack run in turn.
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/outputs/http_client.h"
#include "agent/outputs/http_sink.h"
#include "agent/outputs/output.h"
#include "agent/util/uuid.h"

extern "C" {
int __real_fdatasync(int fd);
int __real_fsync(int fd);
}

namespace {

std::atomic<uint64_t> g_fdatasyncs{0};
std::atomic<uint64_t> g_fsyncs{0};
std::atomic<uint64_t> g_sync_ns{0};
std::atomic<uint64_t> g_unlinks{0};
std::atomic<uint64_t> g_unlink_max_ns{0};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
int timed_sync(F call, int fd, std::atomic<uint64_t>& counter) {
  auto t0 = std::chrono::steady_clock::now();
  int rc = call(fd);
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
  counter.fetch_add(1);
  g_sync_ns.fetch_add(static_cast<uint64_t>(ns.count()));
  return rc;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// An event (or incident) record of about `size` bytes (the message is padded).
vigil::Record make_record(size_t size, bool incident = false) {
  vigil::Record r;
  r.kind = incident ? vigil::RecordKind::kIncident : vigil::RecordKind::kEvent;
  auto now = std::chrono::system_clock::now();
  r.id = vigil::uuid_v7(now);
  r.json = std::string("{\"kind\":\"") + (incident ? "incident" : "event") + "\",\"id\":\"" + r.id +
           "\",\"time\":\"2026-11-24T13:15:02.123Z\",\"host\":\"web-1\",\"tags\":{},"
           "\"check\":\"root\",\"plugin\":\"disk\",\"state\":\"warning\",\"previous_state\":"
           "\"ok\",\"metric\":\"used_percent\",\"value\":91.5,\"rule\":\"used_percent > 90\","
           "\"runbook\":null,\"samples\":[],\"message\":\"";
  while (r.json.size() + 2 < size) {
    r.json += "disk root: used_percent 91.5 > 90. "[r.json.size() % 35];
  }
  r.json += "\"}";
  return r;
}

// Forwards to the HttpSink and times each request, from send() to its outcome.
class TimingSink final : public vigil::Sink {
 public:
  explicit TimingSink(std::unique_ptr<vigil::Sink> inner) : inner_(std::move(inner)) {}
  size_t max_batch(size_t configured) const override { return inner_->max_batch(configured); }
  void send(const std::vector<vigil::SpoolEntry>& batch,
            std::function<void(vigil::SendOutcome)> done) override {
    double t0 = now_seconds();
    ++requests_;
    records_ += batch.size();
    inner_->send(batch, [this, t0, done = std::move(done)](vigil::SendOutcome outcome) {
      seconds_ += now_seconds() - t0;
      done(std::move(outcome));
    });
  }
  void abort() override { inner_->abort(); }

  uint64_t requests_ = 0;
  uint64_t records_ = 0;
  double seconds_ = 0;

 private:
  std::unique_ptr<vigil::Sink> inner_;
};

struct Bench {
  vigil::Output* output = nullptr;
  size_t count = 0;
  size_t enqueued = 0;
  size_t record_bytes = 0;
  bool evict = false;
  uint64_t bytes = 0;
  double started = 0;
  double finished = 0;
};

}  // namespace

extern "C" {
int __real_unlink(const char* path);
int __wrap_unlink(const char* path) {
  auto t0 = std::chrono::steady_clock::now();
  int rc = __real_unlink(path);
  auto ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  if (std::string_view(path).ends_with(".seg")) {
    g_unlinks.fetch_add(1);
    uint64_t seen = g_unlink_max_ns.load();
    while (ns > seen && !g_unlink_max_ns.compare_exchange_weak(seen, ns)) {
    }
  }
  return rc;
}
int __wrap_fdatasync(int fd) { return timed_sync(__real_fdatasync, fd, g_fdatasyncs); }
int __wrap_fsync(int fd) { return timed_sync(__real_fsync, fd, g_fsyncs); }
}

int main(int argc, char** argv) {
  if (argc < 7) {
    fprintf(stderr,
            "usage: forward_bench URL CA_FILE STATE_DIR COUNT RECORD_BYTES GZIP [BATCH_MAX]\n");
    return 2;
  }
  vigil::OutputConfig config;
  config.name = "bench";
  config.url = argv[1];
  config.ca_file = argv[2];
  std::string state_dir = argv[3];
  Bench bench;
  bench.count = std::strtoul(argv[4], nullptr, 10);
  bench.record_bytes = std::strtoul(argv[5], nullptr, 10);
  config.gzip = std::string(argv[6]) == "1";
  if (argc > 7) {
    config.batch_max = std::strtoul(argv[7], nullptr, 10);
  }
  bench.evict = argc > 8 && std::string(argv[8]) == "evict";
  if (bench.evict) {
    config.spool_max = 8u << 20;
  }
  config.retry_max = std::chrono::seconds(1);

  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    vigil::HttpClient client(&loop);
    vigil::AgentInfo agent{"web-1", "bench", vigil::uuid_v4()};
    auto sink =
        std::make_unique<TimingSink>(std::make_unique<vigil::HttpSink>(client, config, agent));
    TimingSink* timing = sink.get();
    bool failed = false;
    vigil::Output output(&loop, config, state_dir, std::move(sink), [&](const std::string& m) {
      fprintf(stderr, "fatal: %s\n", m.c_str());
      failed = true;
      uv_stop(&loop);
    });
    if (vigil::Status s = output.open(); !s.ok()) {
      fprintf(stderr, "%s\n", s.error().c_str());
      return 1;
    }
    bench.output = &output;

    // The producer: 1,000 records per loop iteration, then it watches for the end.
    uv_idle_t producer;
    uv_idle_init(&loop, &producer);
    producer.data = &bench;
    bench.started = now_seconds();
    uv_idle_start(&producer, [](uv_idle_t* h) {
      auto* b = static_cast<Bench*>(h->data);
      for (int i = 0; i < 1000 && b->enqueued < b->count; ++i) {
        vigil::Record r = make_record(b->record_bytes, b->evict && b->enqueued % 50 == 0);
        b->bytes += r.json.size();
        b->output->enqueue(r);
        ++b->enqueued;
      }
      if (b->enqueued == b->count) {
        uv_idle_stop(h);
      }
    });
    // The end: everything enqueued, durable, sent and acknowledged.
    uv_timer_t watch;
    uv_timer_init(&loop, &watch);
    watch.data = &bench;
    uv_timer_start(
        &watch,
        [](uv_timer_t* h) {
          auto* b = static_cast<Bench*>(h->data);
          if (b->enqueued == b->count && b->output->drained()) {
            b->finished = now_seconds();
            uv_stop(h->loop);
          }
        },
        1, 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    vigil::OutputStatus st = output.status();
    output.stop();
    client.close();
    uv_close(reinterpret_cast<uv_handle_t*>(&producer), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&watch), nullptr);
    if (failed || bench.finished == 0) {
      return 1;
    }
    double seconds = bench.finished - bench.started;
    printf(
        "records=%zu seconds=%.3f records_per_s=%.0f bytes_per_s=%.0f fdatasyncs=%llu "
        "fsyncs=%llu syncs_per_s=%.0f sync_seconds=%.3f requests=%llu request_seconds=%.3f "
        "cpu_seconds=%.3f failed=%llu dropped=%llu segment_unlinks=%llu unlink_max_ms=%.3f\n",
        bench.count, seconds, static_cast<double>(bench.count) / seconds,
        static_cast<double>(bench.bytes) / seconds,
        static_cast<unsigned long long>(g_fdatasyncs.load()),
        static_cast<unsigned long long>(g_fsyncs.load()),
        static_cast<double>(g_fdatasyncs.load() + g_fsyncs.load()) / seconds,
        static_cast<double>(g_sync_ns.load()) / 1e9,
        static_cast<unsigned long long>(timing->requests_), timing->seconds_, cpu_seconds(),
        static_cast<unsigned long long>(st.failed), static_cast<unsigned long long>(st.dropped),
        static_cast<unsigned long long>(g_unlinks.load()),
        static_cast<double>(g_unlink_max_ns.load()) / 1e6);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop) == 0 ? 0 : 1;
}
