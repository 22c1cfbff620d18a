#include "agent/outputs/output.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "agent/loop/pool.h"
#include "agent/outputs/alert_state.h"
#include "agent/outputs/dead_letters.h"
#include "agent/util/fs.h"
#include "agent/util/log.h"

namespace vigil {
namespace {

int severity_rank(CheckState s) {
  switch (s) {
    case CheckState::kCritical:
      return 2;
    case CheckState::kWarning:
    case CheckState::kUnknown:
      return 1;
    case CheckState::kOk:
      return 0;
  }
  return 0;
}

std::string format_name(OutputFormat f) {
  switch (f) {
    case OutputFormat::kVigil:
      return "vigil";
    case OutputFormat::kPagerDuty:
      return "pagerduty";
    case OutputFormat::kAlertmanager:
      return "alertmanager";
  }
  return "vigil";
}

// A URL's user:password must never reach status or logs.
std::string redact_url(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    return url;
  }
  size_t host_start = scheme + 3;
  size_t path = url.find_first_of("/?#", host_start);
  size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
  if (at == std::string::npos || at < host_start) {
    return url;
  }
  return url.substr(0, host_start) + url.substr(at + 1);
}

constexpr Duration kAlertmanagerResend = std::chrono::seconds(60);
constexpr Duration kBackoffBase = std::chrono::seconds(1);
// While records are held in memory for lack of disk space, the spool is offered them
// again this often.
constexpr Duration kHoldRetry = std::chrono::seconds(1);
// At most this much (ids and payloads) is held in memory, or spool_max if smaller.
constexpr uint64_t kMemoryCap = 16ull << 20;

uint64_t entry_bytes(const SpoolEntry& e) { return e.id.size() + e.payload.size(); }

// Whether two configurations of one output deliver alike: the same sink, the same
// batches, the same timing. The routing fields (send, min_severity, min_level) only
// decide what accepts() takes; spool_max and spool_full apply at the next start; file
// and line say where the section was written. None of them restarts delivery. A field
// added to OutputConfig belongs here when the sink or the batching reads it.
bool same_delivery(const OutputConfig& a, const OutputConfig& b) {
  return a.name == b.name && a.url == b.url && a.format == b.format && a.token == b.token &&
         a.routing_key == b.routing_key && a.headers == b.headers && a.ca_file == b.ca_file &&
         a.cert_file == b.cert_file && a.key_file == b.key_file && a.tls_verify == b.tls_verify &&
         a.proxy == b.proxy && a.timeout == b.timeout && a.batch_max == b.batch_max &&
         a.batch_bytes == b.batch_bytes && a.flush_interval == b.flush_interval &&
         a.gzip == b.gzip && a.retry_max == b.retry_max;
}

}  // namespace

Output::Output(uv_loop_t* loop, OutputConfig config, std::string state_dir,
               std::unique_ptr<Sink> sink, FatalFn on_fatal)
    : loop_(loop),
      config_(std::move(config)),
      spool_dir_(state_dir + "/spool/" + config_.name),
      dead_dir_(state_dir + "/dead/" + config_.name),
      sink_(std::move(sink)),
      on_fatal_(std::move(on_fatal)),
      flush_timer_(loop, [this] { maybe_deliver(); }),
      retry_timer_(loop, [this] { maybe_deliver(); }),
      state_timer_(loop, [this] { resend_state(); }),
      hold_timer_(loop, [this] { retry_held(); }),
      rng_(std::random_device{}()) {}

Output::~Output() { stop(); }

Status Output::open() {
  if (Status s = make_dirs(spool_dir_); !s.ok()) {
    return s;
  }
  SpoolOptions opts;
  opts.max_bytes = config_.spool_max;
  opts.drop_newest = config_.drop_newest;
  opts.write_fn = spool_write_fn_;
  auto spool = LaneSpool::open(spool_dir_, opts, config_.spool_priority);
  if (!spool.ok()) {
    return make_error("output " + config_.name + ": " + spool.error());
  }
  spool_ = std::shared_ptr<LaneSpool>(std::move(spool).value().release());
  SpoolStats st = spool_->stats();
  if (st.corrupt_frames > 0) {
    log_warning("output " + config_.name + ": " + std::to_string(st.corrupt_frames) +
                " spooled record(s) lost to corruption found at start");
  }
  if (st.records > 0) {
    first_unsent_ = loop_now(loop_);
    maybe_deliver();
  }
  return {};
}

void Output::set_state_provider(std::function<std::vector<Record>()> fn) {
  state_provider_ = std::move(fn);
  if (config_.format == OutputFormat::kAlertmanager) {
    start_state_timer();
  }
}

// The first re-send comes at a random point of the period, so that agents started
// together (a fleet's rollout, a power cut) do not re-send together ever after.
void Output::start_state_timer() {
  std::uniform_int_distribution<int64_t> phase(1, kAlertmanagerResend.count());
  state_timer_.start(Duration(phase(rng_)), kAlertmanagerResend);
}

std::vector<std::string> Output::open_incidents() const {
  // The open incidents this output would take now: with `silenced = skip` a muted
  // one is left out, so Alertmanager lets its alert end at its endsAt; one below
  // min_severity or min_level that never reached this output stays away too.
  std::vector<std::string> open;
  if (state_provider_) {
    for (Record& r : state_provider_()) {
      if (accepts(r)) {
        open.push_back(std::move(r.json));
      }
    }
  }
  return open;
}

bool Output::accepts(const Record& r) const {
  bool incident_only = config_.format != OutputFormat::kVigil;
  switch (r.kind) {
    case RecordKind::kEvent:
      return !incident_only && config_.send_event;
    case RecordKind::kProblem:
      return !incident_only && config_.send_problem;
    case RecordKind::kHeartbeat:
      return !incident_only && config_.send_heartbeat;
    case RecordKind::kIncident:
      break;
  }
  if (!incident_only && !config_.send_incident) {
    return false;
  }
  // Alertmanager has no acknowledgement: an alert is firing or it is not.
  if (r.ack && config_.format == OutputFormat::kAlertmanager) {
    return false;
  }
  bool sent = incident_keys_sent_.count(r.key) != 0;
  // `silenced = skip` (docs/SILENCES.md): a muted incident's records stay away,
  // except what closes or quiets one the receiver already holds (its resolve,
  // an ack). Once the silence ends, the incident's next record (the `update` that
  // says so) is not muted and passes the filters below, so the receiver gets it
  // as the first record of the incident: PagerDuty a trigger.
  if (r.silenced && config_.skip_silenced) {
    return sent && (r.resolved || r.ack);
  }
  // Once an incident has reached this output, the rest of its life follows, so
  // a receiver never holds an incident it will not see resolved.
  if (sent) {
    return true;
  }
  return severity_rank(r.severity) >= severity_rank(config_.min_severity) &&
         r.escalation_level >= config_.min_level;
}

bool Output::offer(const Record& r) {
  if (!accepts(r)) {
    return false;
  }
  if (r.kind == RecordKind::kIncident) {
    if (r.resolved) {
      incident_keys_sent_.erase(r.key);
    } else {
      incident_keys_sent_.insert(r.key);
    }
  }
  enqueue(r);
  return true;
}

void Output::enqueue(const Record& r) {
  queued_.push_back(SpoolEntry{r.id, r.json, {}});
  flush_queued();
}

void Output::flush_queued() {
  if (append_running_ || spool_ == nullptr) {
    return;
  }
  if (!held_.empty()) {
    // The disk had no room at the last try. New records join the held ones, after
    // them, to be sent from memory now and offered to the spool with them at the
    // next retry: appended alone they would overtake the held ones.
    uint64_t dropped = memory_dropped_;
    for (SpoolEntry& e : queued_) {
      hold(std::move(e));
    }
    queued_.clear();
    if (memory_dropped_ > dropped) {
      log_warning("output " + config_.name + ": memory for records the disk has no room for " +
                  "is full: dropped " + std::to_string(memory_dropped_ - dropped) + " record(s)");
      if (on_durable_) {
        on_durable_();
      }
    }
    maybe_deliver();
    return;
  }
  if (queued_.empty()) {
    return;
  }
  start_append();
}

// Group commit: the held records (first, they are older) and everything queued
// while the previous append ran go in one write and one fdatasync.
void Output::start_append() {
  auto batch = std::make_shared<std::vector<SpoolEntry>>();
  auto held_seqs = std::make_shared<std::vector<uint64_t>>();
  appending_ = queued_.size();
  if (held_.empty()) {
    // The queue becomes the batch, and the last batch's storage the queue: no
    // record moves, and no vector grows from nothing at every append.
    batch->swap(queued_);
    queued_.swap(spare_);
  } else {
    batch->reserve(held_.size() + queued_.size());
    for (const Held& h : held_) {
      batch->push_back(h.entry);
      held_seqs->push_back(h.seq);
    }
    for (SpoolEntry& e : queued_) {
      batch->push_back(std::move(e));
    }
    queued_.clear();
  }
  append_running_ = true;
  auto result = std::make_shared<Result<AppendResult>>(make_error("not run"));
  std::shared_ptr<LaneSpool> spool = spool_;
  Liveness::Token token = lifetime_.guard();
  bool queued = run_on_pool(
      loop_, [spool, batch, result] { *result = spool->append(*batch); },
      [this, token, batch, held_seqs, result] {
        if (!token.valid()) {
          return;
        }
        on_appended(*batch, *held_seqs, std::move(*result));
      });
  if (!queued) {
    on_fatal_("output " + config_.name + ": cannot queue a spool write");
  }
}

void Output::on_appended(std::vector<SpoolEntry>& batch, const std::vector<uint64_t>& held_seqs,
                         Result<AppendResult> result) {
  append_running_ = false;
  appending_ = 0;
  if (!result.ok()) {
    on_fatal_("output " + config_.name + ": " + result.error());
    return;
  }
  const size_t n = batch.size();
  const size_t taken = result.value().taken;
  // Held records the spool took leave memory (unless a delivery from memory took
  // them out already).
  if (taken > 0 && !held_seqs.empty()) {
    release_held(held_seqs[std::min(taken, held_seqs.size()) - 1]);
  }
  // Newly refused records are held after those still held: they are newer.
  uint64_t dropped = memory_dropped_;
  for (size_t i = std::max(taken, held_seqs.size()); i < n; ++i) {
    hold(std::move(batch[i]));
  }
  if (memory_dropped_ > dropped) {
    log_warning("output " + config_.name + ": memory for records the disk has no room for " +
                "is full: dropped " + std::to_string(memory_dropped_ - dropped) + " record(s)");
  }
  if (taken < n) {
    if (storage_error_.empty()) {
      log_warning("output " + config_.name + ": " + result.value().no_space_error +
                  "; records are held in memory, not durable, until it has room");
    }
    storage_error_ = result.value().no_space_error;
  } else if (!storage_error_.empty() && n > 0) {
    log_info("output " + config_.name + ": the spool has room again; records are durable");
    storage_error_.clear();
  }
  if (held_.empty()) {
    hold_timer_.stop();
  } else if (!hold_timer_.active() && !stopped_) {
    hold_timer_.start(kHoldRetry, kHoldRetry);
  }
  if (!first_unsent_) {
    first_unsent_ = loop_now(loop_);
  }
  batch.clear();
  if (batch.capacity() > spare_.capacity()) {
    spare_.swap(batch);  // the next append's queue
  }
  if (on_durable_) {
    on_durable_();
  }
  flush_queued();
  maybe_deliver();
}

void Output::retry_held() {
  if (held_.empty()) {
    hold_timer_.stop();
    return;
  }
  if (append_running_ || spool_ == nullptr) {
    return;  // the running append ends with a retry of its own
  }
  start_append();
}

// Holds one record the disk had no room for. Beyond the memory cap, spool_full
// decides, as it does for the spool: drop_newest refuses this record, drop_oldest
// makes room by dropping the oldest held ones. Either way the drop is counted.
void Output::hold(SpoolEntry entry) {
  uint64_t size = entry_bytes(entry);
  uint64_t cap = std::min<uint64_t>(config_.spool_max, kMemoryCap);
  if (size > cap) {
    drop_held(entry);
    return;
  }
  while (held_bytes_ + size > cap) {
    if (config_.drop_newest) {
      drop_held(entry);
      return;
    }
    held_bytes_ -= entry_bytes(held_.front().entry);
    drop_held(held_.front().entry);
    held_.pop_front();
  }
  held_bytes_ += size;
  held_.push_back(Held{next_held_seq_++, std::move(entry)});
  if (!first_unsent_) {
    first_unsent_ = loop_now(loop_);
  }
}

void Output::drop_held(const SpoolEntry& entry) {
  ++memory_dropped_;
  ++memory_dropped_by_kind_[payload_kind(entry.payload)];
}

void Output::release_held(uint64_t through_seq) {
  while (!held_.empty() && held_.front().seq <= through_seq) {
    held_bytes_ -= entry_bytes(held_.front().entry);
    held_.pop_front();
  }
  if (held_.empty()) {
    hold_timer_.stop();
  }
}

bool Output::drained() const {
  if (spool_ == nullptr) {
    return queued_.empty();
  }
  return queued_.empty() && !append_running_ && held_.empty() && spool_->stats().records == 0;
}

void Output::reconfigure(OutputConfig config, std::unique_ptr<Sink> sink, bool sink_changed) {
  bool restart = sink_changed || !same_delivery(config_, config);
  uint64_t spool_max = config_.spool_max;
  bool drop_newest = config_.drop_newest;
  bool spool_priority = config_.spool_priority;
  config_ = std::move(config);
  config_.spool_max = spool_max;
  config_.drop_newest = drop_newest;
  config_.spool_priority = spool_priority;
  // incident_keys_sent_ stays: a receiver that holds an incident open must still
  // get the rest of its life, whatever the new thresholds say.
  if (!restart) {
    // Nothing that delivery reads changed: a reload must not disturb it. The batch in
    // flight, its backoff and the sink stay; the new sink is dropped unused.
    return;
  }
  // Whatever was in flight is abandoned: its batch is still in the spool (or in
  // memory) and is sent again with the new settings. Callbacks of the old sink and
  // of pool work already started see a stale token and do nothing; acknowledgements
  // being stored still move the cursor, and reading starts again from it (a record
  // accepted meanwhile may be sent twice, which at-least-once allows).
  sink_->abort();
  sink_ = std::move(sink);
  delivery_.renew();
  sending_ = false;
  memory_in_flight_ = false;
  reading_ = false;
  recheck_after_read_ = false;
  next_.reset();
  in_flight_records_ = 0;
  storing_records_ = 0;
  read_through_.clear();
  accepted_through_.clear();
  attempt_ = 0;
  split_limit_ = 0;
  retry_timer_.stop();
  flush_timer_.stop();
  if (state_provider_ && config_.format == OutputFormat::kAlertmanager) {
    if (!state_timer_.active()) {
      start_state_timer();
    }
  } else {
    state_timer_.stop();
  }
  maybe_deliver();
}

void Output::stop() {
  stopped_ = true;
  flush_timer_.stop();
  retry_timer_.stop();
  state_timer_.stop();
  hold_timer_.stop();
  if (sink_ != nullptr) {
    sink_->abort();
  }
}

// Delivery, one request at a time and in order (docs/DELIVERY.md, Batches):
//
//   read (pool)  ->  send (sink)  ->  on 2xx: store the acknowledgement (pool)
//                     |                 and send the next batch, read meanwhile
//                     +-- while it is on the wire, the next full batch is read
//
// A batch goes out only once the endpoint accepted the one before it; the spool's
// cursor follows behind, one store per accepted batch. What is read ahead is read
// from where the batches before it end (read_through_), never from the cursor,
// which lags while their acknowledgements are stored. A failed, split or
// dead-letter-refused batch drops what was read after it and reads again from the
// end of what the endpoint accepted (accepted_through_): a retry starts again from
// the same first record.
void Output::maybe_deliver() {
  if (stopped_ || spool_ == nullptr || retry_timer_.active()) {
    return;
  }
  if (sending_) {
    read_ahead();
    return;
  }
  if (next_) {
    Batch b = std::move(*next_);
    next_.reset();
    send(std::move(b));
    read_ahead();
    return;
  }
  if (reading_) {
    // It sends what it reads; should it read nothing whole, it calls again.
    recheck_after_read_ = true;
    return;
  }
  // The spool first: anything held in memory is newer than everything in it. Records
  // whose acknowledgement is being stored are delivered already; until it is stored,
  // memory waits (its completion calls again).
  SpoolStats st = spool_->stats();
  const bool from_memory = st.records == 0;
  size_t available = held_.size();
  if (!from_memory) {
    available = st.records - std::min<uint64_t>(st.records, storing_records_);
    if (available == 0) {
      return;
    }
  }
  if (available == 0) {
    first_unsent_.reset();
    return;
  }
  size_t max_records = batch_limit();
  // Wait up to flush_interval for a full batch.
  MonotonicTime now = loop_now(loop_);
  if (available < max_records && first_unsent_) {
    MonotonicTime due = *first_unsent_ + config_.flush_interval;
    if (due > now) {
      if (!flush_timer_.active()) {
        flush_timer_.start(std::chrono::duration_cast<Duration>(due - now) + Duration(1));
      }
      return;
    }
  }
  flush_timer_.stop();
  if (from_memory) {
    Batch batch;
    batch.from_memory = true;
    uint64_t bytes = 0;
    for (const Held& h : held_) {
      if (batch.entries.size() >= std::max<size_t>(max_records, 1) ||
          (!batch.entries.empty() && bytes + h.entry.payload.size() > config_.batch_bytes)) {
        break;
      }
      batch.entries.push_back(h.entry);
      bytes += h.entry.payload.size();
      batch.last_held = h.seq;
    }
    send(std::move(batch));
    return;
  }
  read(max_records);
}

size_t Output::batch_limit() const {
  size_t max_records = sink_->max_batch(config_.batch_max);
  if (split_limit_ > 0) {
    max_records = std::min(max_records, split_limit_);
  }
  return max_records;
}

// While a batch from the spool is on the wire: reads the next one, if a full batch is
// waiting behind it (a trickle waits for flush_interval as before).
void Output::read_ahead() {
  // Only behind a batch on the wire: after a send that failed at once (a sink that
  // cannot start), the retry timer holds everything.
  if (!sending_ || next_ || reading_ || memory_in_flight_ || split_limit_ > 0 || stopped_ ||
      retry_timer_.active()) {
    return;
  }
  SpoolStats st = spool_->stats();
  uint64_t ahead = storing_records_ + in_flight_records_;
  size_t max_records = batch_limit();
  if (st.records < ahead + max_records) {
    return;
  }
  read(max_records);
}

void Output::read(size_t max_records) {
  reading_ = true;
  auto result = std::make_shared<Result<std::vector<SpoolEntry>>>(make_error("not read"));
  std::shared_ptr<LaneSpool> spool = spool_;
  uint64_t max_bytes = config_.batch_bytes;
  std::vector<SpoolPosition> after = read_through_;
  uint64_t generation = read_generation_;
  Liveness::Token token = delivery_.guard();
  bool queued = run_on_pool(
      loop_,
      [spool, result, max_records, max_bytes, after = std::move(after)] {
        *result = spool->peek(max_records, max_bytes, after);
      },
      [this, token, result, generation] {
        if (!token.valid()) {
          return;
        }
        on_read(generation, std::move(*result));
      });
  if (!queued) {
    reading_ = false;
    on_fatal_("output " + config_.name + ": cannot queue a spool read");
  }
}

void Output::on_read(uint64_t generation, Result<std::vector<SpoolEntry>> batch) {
  reading_ = false;
  const bool recheck = std::exchange(recheck_after_read_, false);
  if (stopped_) {
    return;
  }
  if (!batch.ok()) {
    on_fatal_("output " + config_.name + ": cannot read spool: " + batch.error());
    return;
  }
  if (generation != read_generation_) {
    // Read behind a batch that failed: what follows it is read again after it.
    maybe_deliver();
    return;
  }
  if (batch.value().empty()) {
    // Nothing whole yet. An append or acknowledgement that came meanwhile found the
    // read running: look again for it; otherwise the next one calls.
    if (recheck) {
      maybe_deliver();
    }
    return;
  }
  Batch b;
  b.entries = std::move(batch).value();
  advance(&read_through_, b.entries);
  if (sending_) {
    next_ = std::move(b);
    return;
  }
  send(std::move(b));
  read_ahead();
}

// Moves each lane's position to the end of the batch's last record in it.
void Output::advance(std::vector<SpoolPosition>* through, const std::vector<SpoolEntry>& entries) {
  for (const SpoolEntry& e : entries) {
    if (through->size() <= e.lane) {
      through->resize(e.lane + 1);
    }
    (*through)[e.lane] = std::max((*through)[e.lane], e.end);
  }
}

// Drops what was read after the batch that did not go through; the next read starts
// again after the last accepted record.
void Output::read_again() {
  next_.reset();
  ++read_generation_;
  read_through_ = accepted_through_;
}

void Output::send(Batch batch) {
  sending_ = true;
  memory_in_flight_ = batch.from_memory;
  in_flight_records_ = batch.from_memory ? 0 : batch.entries.size();
  auto b = std::make_shared<Batch>(std::move(batch));
  Liveness::Token token = delivery_.guard();
  if (config_.format == OutputFormat::kAlertmanager && state_provider_) {
    // Alertmanager holds state, not history: the request carries what the receiver
    // should hold now, built at each attempt (docs/RECORDS.md). A spooled firing
    // state never overtakes the incident's present, however long the outage was.
    std::vector<std::string> payloads;
    payloads.reserve(b->entries.size());
    for (const SpoolEntry& e : b->entries) {
      payloads.push_back(e.payload);
    }
    std::vector<SpoolEntry> now;
    for (std::string& p : alertmanager_state(payloads, open_incidents())) {
      now.push_back(SpoolEntry{{}, std::move(p), {}});
    }
    if (now.empty()) {
      // Nothing to tell: every record of the batch is superseded by a resolve further
      // on. It is delivered in the sense that matters, and leaves the spool.
      on_outcome(std::move(*b), SendOutcome{});
      return;
    }
    send_entries(now, b, token);
    return;
  }
  send_entries(b->entries, b, token);
}

// The sink reads `entries` before it returns; `batch` is what the outcome concerns.
void Output::send_entries(const std::vector<SpoolEntry>& entries, std::shared_ptr<Batch> batch,
                          Liveness::Token token) {
  sink_->send(entries, [this, token, b = std::move(batch)](SendOutcome outcome) {
    if (!token.valid()) {
      return;
    }
    on_outcome(std::move(*b), std::move(outcome));
  });
}

void Output::on_outcome(Batch batch, SendOutcome outcome) {
  in_flight_records_ = 0;
  if (stopped_) {
    sending_ = false;
    return;
  }
  switch (outcome.kind) {
    case SendOutcome::Kind::kAck: {
      size_t n = batch.entries.size();
      attempt_ = 0;
      if (split_limit_ > 0 && n >= split_limit_) {
        split_limit_ = 0;  // the smaller batch passed: try full batches again
      }
      accept(std::move(batch), [this, n] {
        sent_ += n;
        last_success_ = std::chrono::system_clock::now();
      });
      return;
    }
    case SendOutcome::Kind::kRetry:
      sending_ = false;
      memory_in_flight_ = false;
      read_again();
      retry_later(outcome);
      return;
    case SendOutcome::Kind::kSplit:
      if (batch.entries.size() > 1) {
        // 413: send the first half first; the rest follows in order.
        split_limit_ = batch.entries.size() / 2;
        sending_ = false;
        memory_in_flight_ = false;
        read_again();
        ++failed_;
        last_error_ =
            outcome.error + ": batch of " + std::to_string(batch.entries.size()) + " split in two";
        maybe_deliver();
        return;
      }
      dead_letter(std::move(batch), outcome);
      return;
    case SendOutcome::Kind::kDeadLetter:
      dead_letter(std::move(batch), outcome);
      return;
  }
}

// The endpoint took the batch (or it went to dead letters). A batch from memory
// leaves memory at once. One from the spool is acknowledged up to where its last
// record ends, never by a count (a call that comes late or twice acknowledges the
// same records or none), on the pool; the next batch goes out meanwhile.
void Output::accept(Batch batch, std::function<void()> then) {
  sending_ = false;
  memory_in_flight_ = false;
  first_unsent_ = loop_now(loop_) - config_.flush_interval;  // the rest is overdue
  if (batch.from_memory) {
    release_held(batch.last_held);
    then();
    maybe_deliver();
    if (on_durable_) {
      on_durable_();  // delivered records are no longer pending
    }
    if (on_acked_) {
      on_acked_();  // may find every output drained and stop the agent
    }
    return;
  }
  advance(&accepted_through_, batch.entries);
  const size_t n = batch.entries.size();
  storing_records_ += n;
  // Where the batch ends in each lane, for LaneSpool::ack: its last record of each.
  std::vector<SpoolEntry> through;
  for (size_t i = n; i-- > 0;) {
    const SpoolEntry& e = batch.entries[i];
    if (std::none_of(through.begin(), through.end(),
                     [&](const SpoolEntry& t) { return t.lane == e.lane; })) {
      through.push_back(SpoolEntry{{}, {}, e.end, e.lane});
    }
  }
  auto status = std::make_shared<Status>();
  std::shared_ptr<LaneSpool> spool = spool_;
  Liveness::Token token = delivery_.guard();
  bool queued = run_on_pool(
      loop_, [spool, status, through = std::move(through)] { *status = spool->ack(through); },
      [this, token, status, n, then = std::move(then)] {
        if (!token.valid()) {
          return;
        }
        storing_records_ -= std::min(storing_records_, n);
        if (!status->ok()) {
          on_fatal_("output " + config_.name + ": " + status->error());
          return;
        }
        then();
        maybe_deliver();
        if (on_acked_) {
          on_acked_();  // may find every output drained and stop the agent
        }
      });
  if (!queued) {
    on_fatal_("output " + config_.name + ": cannot queue a spool acknowledgement");
    return;
  }
  maybe_deliver();
}

void Output::retry_later(const SendOutcome& outcome) {
  ++failed_;
  last_error_ = outcome.error;
  log_warning("output " + config_.name + ": delivery failed: " + outcome.error);
  // Exponential backoff with full jitter between half and all of the step,
  // capped at retry_max (Alertmanager: 60 s, it must hear from us before an
  // alert's endsAt passes).
  Duration ceiling = config_.retry_max;
  if (config_.format == OutputFormat::kAlertmanager) {
    ceiling = std::min(ceiling, kAlertmanagerResend);
  }
  double step = static_cast<double>(kBackoffBase.count()) * std::pow(2.0, std::min(attempt_, 30));
  step = std::min(step, static_cast<double>(ceiling.count()));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  auto delay = Duration(static_cast<int64_t>(step * jitter(rng_)));
  if (outcome.retry_after) {
    delay = std::max(delay, std::min(*outcome.retry_after, std::max(ceiling, Duration(3600000))));
    if (config_.format == OutputFormat::kAlertmanager) {
      delay = std::min(delay, kAlertmanagerResend);
    }
  }
  ++attempt_;
  retry_timer_.start(std::max(delay, Duration(1)));
}

// The batch stays in flight (nothing behind it goes out) until its letter is
// written; then it is accepted like a 2xx.
void Output::dead_letter(Batch batch, const SendOutcome& outcome) {
  ++failed_;
  last_error_ = outcome.error;
  log_error("output " + config_.name + ": endpoint refused a batch of " +
            std::to_string(batch.entries.size()) + " record(s) with " + outcome.error +
            "; moved to dead letters");
  auto b = std::make_shared<Batch>(std::move(batch));
  auto removed = std::make_shared<uint64_t>(0);
  auto status = std::make_shared<Status>();
  std::string dir = dead_dir_;
  uint64_t cap = config_.spool_max;
  long code = outcome.status;
  std::string reply = outcome.reply;
  Liveness::Token token = delivery_.guard();
  bool queued = run_on_pool(
      loop_,
      [dir, b, removed, status, cap, code, reply] {
        *status = write_dead_letter(dir, code, reply, b->entries, std::chrono::system_clock::now());
        *removed = trim_dead_letters(dir, cap);
      },
      [this, token, b, removed, status] {
        // A stale letter is not acknowledged: its records stay where they were and
        // are sent again by the new generation (a duplicate at worst, never a loss).
        if (!token.valid()) {
          return;
        }
        if (!status->ok()) {
          // Not written: keep the batch and try again later.
          sending_ = false;
          memory_in_flight_ = false;
          read_again();
          SendOutcome retry;
          retry.error = "cannot write dead letter: " + status->error();
          retry_later(retry);
          return;
        }
        dead_dropped_ += *removed;
        size_t n = b->entries.size();
        accept(std::move(*b), [this, n] { dead_lettered_ += n; });
      });
  if (!queued) {
    sending_ = false;
    on_fatal_("output " + config_.name + ": cannot queue a dead letter");
  }
}

void Output::resend_state() {
  if (stopped_ || sending_ || reading_ || next_ || !state_provider_ || retry_timer_.active()) {
    return;
  }
  if (!held_.empty() || (spool_ != nullptr && spool_->stats().records > 0)) {
    return;  // the queued records carry newer state; they go first
  }
  std::vector<std::string> open = open_incidents();
  if (open.empty()) {
    return;
  }
  sending_ = true;
  memory_in_flight_ = true;  // nothing is read ahead of it
  Liveness::Token token = delivery_.guard();
  bool sending = sink_->send_state(open, [this, token](SendOutcome outcome) {
    if (!token.valid()) {
      return;
    }
    sending_ = false;
    memory_in_flight_ = false;
    if (outcome.kind == SendOutcome::Kind::kAck) {
      last_success_ = std::chrono::system_clock::now();
    } else {
      ++failed_;
      last_error_ = outcome.error;
    }
    maybe_deliver();
  });
  if (!sending) {
    sending_ = false;
    memory_in_flight_ = false;
  }
}

OutputStatus Output::status() const {
  OutputStatus s;
  s.name = config_.name;
  s.url = redact_url(config_.url);
  s.format = format_name(config_.format);
  if (spool_ != nullptr) {
    SpoolStats st = spool_->stats();
    s.spool_records = st.records;
    s.spool_bytes = st.bytes;
    s.dropped = st.dropped;
    s.dropped_by_kind = st.dropped_by_kind;
    s.corrupt_frames = st.corrupt_frames;
    s.priority = spool_->priority();
    std::tie(s.high_bytes, s.low_bytes) = spool_->lane_bytes();
  }
  for (size_t k = 0; k < kRecordKinds; ++k) {
    s.dropped_by_kind[k] += memory_dropped_by_kind_[k];
  }
  s.memory_records = held_.size();
  s.storage_error = storage_error_;
  s.dropped += dead_dropped_ + memory_dropped_;
  s.sent = sent_;
  s.failed = failed_;
  s.dead_lettered = dead_lettered_;
  s.last_error = last_error_;
  s.last_success = last_success_;
  return s;
}

}  // namespace vigil
