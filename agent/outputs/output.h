#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/loop/liveness.h"
#include "agent/loop/uv_handle.h"
#include "agent/outputs/sink.h"
#include "agent/records/record.h"
#include "agent/spool/lane_spool.h"
#include "agent/util/time.h"

namespace vigil {

struct OutputStatus {
  std::string name, url, format;
  uint64_t spool_records = 0, spool_bytes = 0;
  // Records the disk had no room for, held in memory: sent like the spooled ones,
  // after them, but not durable until the spool takes them.
  uint64_t memory_records = 0;
  uint64_t sent = 0, failed = 0, dropped = 0, dead_lettered = 0;
  // The spool's and memory's share of `dropped` by record kind (kRecordKindNames);
  // dead letters deleted to stay under the cap are in `dropped` only.
  KindCounts dropped_by_kind{};
  // With spool_priority on: bytes waiting in the high and the low lane.
  bool priority = false;
  uint64_t high_bytes = 0, low_bytes = 0;
  // Records lost to spool corruption: an estimate that errs high (docs/SPOOL.md).
  uint64_t corrupt_frames = 0;
  std::string last_error;
  // Why the spool cannot store records now, naming it ("spool DIR: No space left on
  // device"); empty while it can.
  std::string storage_error;
  std::optional<SystemTime> last_success;
};

// One output (docs/DELIVERY.md): its spool, its sink, batching, backoff and dead letters. Records
// are durable in the spool before anything is sent, and each output has its own spool and cursor so
// one dead endpoint never holds up another. Every blocking spool call runs on the thread pool.
//
// A full disk is the exception to "durable first": records the spool has no room for
// are held in memory (up to min(spool_max, 16 MiB) of them, spool_full deciding
// beyond that), sent after the spooled ones, and offered to the spool again every
// second until it takes them. They count as unspooled() meanwhile, so the agent keeps
// them in its own state.
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
  // Whether this output takes the record (send, min_severity, min_level, and the
  // incidents it has already sent, whose whole life follows). No side effect.
  bool accepts(const Record& record) const;
  // Queues the record if this output takes it, and remembers the incidents it
  // sent; returns whether it took it.
  bool offer(const Record& record);
  // Queues a record; it is appended durably on the thread pool.
  void enqueue(const Record& record);
  // Records handed to enqueue() that are not yet durable in the spool: queued, being
  // appended, or held in memory for lack of disk space (delivered ones excepted).
  size_t unspooled() const { return queued_.size() + appending_ + held_.size(); }
  // Called when unspooled() may have fallen: after each append, and after records held
  // in memory were delivered (the agent drops its copy of unspooled records when
  // every output has none).
  void set_on_durable(std::function<void()> fn) { on_durable_ = std::move(fn); }
  // Called after each acknowledged (or dead-lettered) batch leaves the spool.
  void set_on_acked(std::function<void()> fn) { on_acked_ = std::move(fn); }
  // Alertmanager: where the current open incidents come from for re-sends.
  void set_state_provider(std::function<std::vector<Record>()> fn);
  // Replaces write(2) for the spool, as SpoolOptions::write_fn does: tests make the
  // disk full through it. Takes effect at open().
  void set_spool_write_fn(std::function<ssize_t(int, const void*, size_t)> fn) {
    spool_write_fn_ = std::move(fn);
  }

  // SIGHUP: this output is in the new configuration. Routing (send, min_severity,
  // min_level) follows the new settings at once. When nothing that delivery depends
  // on changed (see same_delivery() in output.cpp), nothing else does: the sink, the
  // batch in flight and the backoff stay, and `sink` is dropped unused. Otherwise
  // delivery restarts with `sink`: the batch in flight is abandoned (it is still
  // spooled, and sent again) and every callback of the old sink or of pool work
  // started before goes stale. `sink_changed` forces the restart, for a change the
  // configuration does not show (the agent's hostname, which the sink sends). The
  // spool stays; spool_max and spool_full apply at the next start.
  void reconfigure(OutputConfig config, std::unique_ptr<Sink> sink, bool sink_changed = false);
  // Nothing left to append or send, in the spool or in memory.
  bool drained() const;
  // Stops sending; what is in flight stays spooled.
  void stop();
  OutputStatus status() const;
  const OutputConfig& config() const { return config_; }

 private:
  // A batch on its way: from the spool (acknowledged up to the end of its last
  // record) or from the records held in memory (released up to the last one's seq).
  struct Batch {
    std::vector<SpoolEntry> entries;
    bool from_memory = false;
    uint64_t last_held = 0;
  };
  // A record the disk had no room for.
  struct Held {
    uint64_t seq = 0;  // increasing: held_ is in record order
    SpoolEntry entry;
  };

  void flush_queued();
  void start_append();
  void on_appended(std::vector<SpoolEntry>& batch, const std::vector<uint64_t>& held_seqs,
                   Result<AppendResult> result);
  void retry_held();
  void hold(SpoolEntry entry);
  void drop_held(const SpoolEntry& entry);
  void release_held(uint64_t through_seq);
  void maybe_deliver();
  size_t batch_limit() const;
  void read_ahead();
  void read(size_t max_records);
  void on_read(uint64_t generation, Result<std::vector<SpoolEntry>> batch);
  static void advance(std::vector<SpoolPosition>* through, const std::vector<SpoolEntry>& entries);
  void read_again();
  void send(Batch batch);
  void send_entries(const std::vector<SpoolEntry>& entries, std::shared_ptr<Batch> batch,
                    Liveness::Token token);
  void on_outcome(Batch batch, SendOutcome outcome);
  void accept(Batch batch, std::function<void()> then);
  void retry_later(const SendOutcome& outcome);
  void dead_letter(Batch batch, const SendOutcome& outcome);
  void resend_state();
  void start_state_timer();
  std::vector<std::string> open_incidents() const;

  uv_loop_t* loop_;
  OutputConfig config_;
  std::string spool_dir_;
  std::string dead_dir_;
  std::unique_ptr<Sink> sink_;
  FatalFn on_fatal_;
  std::shared_ptr<LaneSpool> spool_;
  std::function<ssize_t(int, const void*, size_t)> spool_write_fn_;
  std::vector<SpoolEntry> queued_;  // accepted, not yet handed to an append
  std::vector<SpoolEntry> spare_;   // an empty vector with room: the queue after the next append
  size_t appending_ = 0;            // records of the running append that came from queued_
  bool append_running_ = false;
  // Refused by a full disk, oldest first, all newer than anything in the spool.
  std::deque<Held> held_;
  uint64_t held_bytes_ = 0;  // ids and payloads
  uint64_t next_held_seq_ = 1;
  uint64_t memory_dropped_ = 0;
  KindCounts memory_dropped_by_kind_{};
  std::string storage_error_;
  // Delivery (maybe_deliver() in output.cpp): one batch with the sink at a time, the
  // next read ahead meanwhile, the acknowledgements of accepted ones being stored.
  bool sending_ = false;             // a batch (or the state) is with the sink, or its dead letter
  bool memory_in_flight_ = false;    // what is sent is not from the spool: nothing is read ahead
  bool reading_ = false;             // a spool read runs
  bool recheck_after_read_ = false;  // maybe_deliver() was called while it ran
  uint64_t read_generation_ = 0;     // a read begun before read_again() is dropped
  std::optional<Batch> next_;        // read ahead, sent once the batch in flight is accepted
  size_t in_flight_records_ = 0;     // spool records with the sink
  size_t storing_records_ = 0;       // accepted spool records whose acknowledgement is stored now
  // Per lane (SpoolEntry::lane): where the records read so far, and those the
  // endpoint accepted, end. Reads start from the first; a failure goes back to the second.
  std::vector<SpoolPosition> read_through_;
  std::vector<SpoolPosition> accepted_through_;
  bool stopped_ = false;
  size_t split_limit_ = 0;  // after a 413: the smaller batch size to try
  int attempt_ = 0;
  std::optional<MonotonicTime> first_unsent_;
  Timer flush_timer_;
  Timer retry_timer_;
  Timer state_timer_;
  Timer hold_timer_;  // offers the held records to the spool again
  std::function<void()> on_durable_;
  std::function<void()> on_acked_;
  std::function<std::vector<Record>()> state_provider_;
  std::set<std::string> incident_keys_sent_;
  std::mt19937_64 rng_;
  uint64_t sent_ = 0, failed_ = 0, dead_lettered_ = 0, dead_dropped_ = 0;
  std::string last_error_;
  std::optional<SystemTime> last_success_;
  // Callbacks check a token from one of these before they touch the output. An
  // append's lives as long as the output: a reload does not stop an append, whose
  // result must be counted whatever the generation. Delivery's (peek, send, ack, dead
  // letter, state re-send) is renewed when a reload restarts delivery, so that work of
  // the old generation cannot act on the new one.
  Liveness lifetime_;
  Liveness delivery_;
};

}  // namespace vigil
