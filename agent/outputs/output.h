#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/loop/uv_handle.h"
#include "agent/outputs/sink.h"
#include "agent/records/record.h"
#include "agent/spool/spool.h"
#include "agent/util/time.h"

namespace vigil {

struct OutputStatus {
  std::string name, url, format;
  uint64_t spool_records = 0, spool_bytes = 0;
  uint64_t sent = 0, failed = 0, dropped = 0, dead_lettered = 0, corrupt_frames = 0;
  std::string last_error;
  std::optional<SystemTime> last_success;
};

// One output: its spool, its sink, batching, backoff and dead letters
// (docs/DELIVERY.md). Records are durable in the spool before anything is sent, and
// each output has its own spool and cursor so one dead endpoint never holds up
// another. Every blocking spool call runs on the thread pool.
class Output {
 public:
  using FatalFn = std::function<void(const std::string&)>;

  Output(uv_loop_t* loop, OutputConfig config, std::string state_dir, std::unique_ptr<Sink> sink,
         FatalFn on_fatal);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Opens the spool (blocking; at start or reload, before the loop's work).
  Status open();
  // Whether this output takes the record (send, min_severity, min_level).
  bool accepts(const Record& record);
  // Queues an accepted record; it is appended durably on the thread pool.
  void enqueue(const Record& record);
  // Records handed to enqueue() that are not yet durable.
  size_t pending() const { return pending_.size() + appending_; }
  // Called after each durable append (the agent clears its pending state then).
  void set_on_durable(std::function<void()> fn) { on_durable_ = std::move(fn); }
  // Called after each acknowledged (or dead-lettered) batch leaves the spool.
  void set_on_acked(std::function<void()> fn) { on_acked_ = std::move(fn); }
  // Alertmanager: where the current open incidents come from for re-sends.
  void set_state_provider(std::function<std::vector<std::string>()> fn);

  // SIGHUP changed this output's settings: the spool stays, the sink and the
  // delivery settings change (spool_max and spool_full apply at the next start).
  void reconfigure(OutputConfig config, std::unique_ptr<Sink> sink);
  // Nothing left to append or send.
  bool drained() const;
  // Stops sending; what is in flight stays spooled.
  void stop();
  OutputStatus status() const;
  const OutputConfig& config() const { return config_; }

 private:
  void flush_pending();
  void maybe_deliver();
  void on_peeked(Result<std::vector<SpoolEntry>> batch);
  void on_outcome(std::vector<SpoolEntry> batch, SendOutcome outcome);
  void ack(size_t n, std::function<void()> then);
  void retry_later(const SendOutcome& outcome);
  void dead_letter(std::vector<SpoolEntry> batch, const SendOutcome& outcome);
  void resend_state();

  uv_loop_t* loop_;
  OutputConfig config_;
  std::string spool_dir_;
  std::string dead_dir_;
  std::unique_ptr<Sink> sink_;
  FatalFn on_fatal_;
  std::shared_ptr<Spool> spool_;
  std::vector<SpoolEntry> pending_;
  size_t appending_ = 0;
  bool busy_ = false;  // a peek, send or ack is in flight
  bool stopped_ = false;
  size_t split_limit_ = 0;  // after a 413: the smaller batch size to try
  int attempt_ = 0;
  uint64_t generation_ = 0;  // bumped by reconfigure(): older callbacks are stale
  std::optional<MonotonicTime> first_unsent_;
  Timer flush_timer_;
  Timer retry_timer_;
  Timer state_timer_;
  std::function<void()> on_durable_;
  std::function<void()> on_acked_;
  std::function<std::vector<std::string>()> state_provider_;
  std::set<std::string> incident_keys_sent_;
  std::mt19937_64 rng_;
  uint64_t sent_ = 0, failed_ = 0, dead_lettered_ = 0, dead_dropped_ = 0;
  std::string last_error_;
  std::optional<SystemTime> last_success_;
  std::shared_ptr<bool> alive_;
};

}  // namespace vigil
