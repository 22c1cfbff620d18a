#include "agent/outputs/output.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include "agent/loop/pool.h"
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
  size_t path = url.find('/', host_start);
  size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
  if (at == std::string::npos || at < host_start) {
    return url;
  }
  return url.substr(0, host_start) + url.substr(at + 1);
}

constexpr Duration kAlertmanagerResend = std::chrono::seconds(60);
constexpr Duration kBackoffBase = std::chrono::seconds(1);

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
      rng_(std::random_device{}()),
      alive_(std::make_shared<bool>(true)) {}

Output::~Output() {
  *alive_ = false;
  stop();
}

Status Output::open() {
  if (Status s = make_dirs(spool_dir_); !s.ok()) {
    return s;
  }
  SpoolOptions opts;
  opts.max_bytes = config_.spool_max;
  opts.drop_newest = config_.drop_newest;
  auto spool = Spool::open(spool_dir_, opts);
  if (!spool.ok()) {
    return make_error("output " + config_.name + ": " + spool.error());
  }
  spool_ = std::shared_ptr<Spool>(std::move(spool).value().release());
  SpoolStats st = spool_->stats();
  if (st.corrupt_frames > 0) {
    log_warning("output " + config_.name + ": " + std::to_string(st.corrupt_frames) +
                " corrupt spool frame(s) cut at start");
  }
  if (st.records > 0) {
    first_unsent_ = loop_now(loop_);
    maybe_deliver();
  }
  return {};
}

void Output::set_state_provider(std::function<std::vector<std::string>()> fn) {
  state_provider_ = std::move(fn);
  if (config_.format == OutputFormat::kAlertmanager) {
    state_timer_.start(kAlertmanagerResend, kAlertmanagerResend);
  }
}

bool Output::accepts(const Record& r) {
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
  // Once an incident has reached this output, the rest of its life follows, so
  // a receiver never holds an incident it will not see resolved.
  if (incident_keys_sent_.count(r.key) != 0) {
    if (r.resolved) {
      incident_keys_sent_.erase(r.key);
    }
    return true;
  }
  if (severity_rank(r.severity) < severity_rank(config_.min_severity) ||
      r.escalation_level < config_.min_level) {
    return false;
  }
  if (!r.resolved) {
    incident_keys_sent_.insert(r.key);
  }
  return true;
}

void Output::enqueue(const Record& r) {
  pending_.push_back(SpoolEntry{r.id, r.json});
  flush_pending();
}

void Output::flush_pending() {
  if (appending_ > 0 || pending_.empty() || spool_ == nullptr) {
    return;
  }
  // Group commit: everything queued while the previous append ran goes in one
  // write and one fdatasync.
  auto batch = std::make_shared<std::vector<SpoolEntry>>(std::move(pending_));
  pending_.clear();
  appending_ = batch->size();
  auto status = std::make_shared<Status>();
  std::shared_ptr<Spool> spool = spool_;
  std::weak_ptr<bool> alive = alive_;
  bool queued = run_on_pool(
      loop_, [spool, batch, status] { *status = spool->append(*batch); },
      [this, alive, status] {
        if (auto a = alive.lock(); !a || !*a) {
          return;
        }
        appending_ = 0;
        if (!status->ok()) {
          on_fatal_("output " + config_.name + ": " + status->error());
          return;
        }
        if (!first_unsent_) {
          first_unsent_ = loop_now(loop_);
        }
        if (on_durable_) {
          on_durable_();
        }
        flush_pending();
        maybe_deliver();
      });
  if (!queued) {
    on_fatal_("output " + config_.name + ": cannot queue a spool write");
  }
}

bool Output::drained() const {
  if (spool_ == nullptr) {
    return pending_.empty();
  }
  return pending_.empty() && appending_ == 0 && spool_->stats().records == 0;
}

void Output::reconfigure(OutputConfig config, std::unique_ptr<Sink> sink) {
  // Whatever was in flight is abandoned: its batch is still in the spool and is
  // sent again with the new settings.
  sink_->abort();
  sink_ = std::move(sink);
  uint64_t spool_max = config_.spool_max;
  bool drop_newest = config_.drop_newest;
  config_ = std::move(config);
  config_.spool_max = spool_max;
  config_.drop_newest = drop_newest;
  busy_ = false;
  ++generation_;
  attempt_ = 0;
  split_limit_ = 0;
  retry_timer_.stop();
  incident_keys_sent_.clear();
  maybe_deliver();
}

void Output::stop() {
  stopped_ = true;
  flush_timer_.stop();
  retry_timer_.stop();
  state_timer_.stop();
  if (sink_ != nullptr) {
    sink_->abort();
  }
}

void Output::maybe_deliver() {
  if (stopped_ || busy_ || spool_ == nullptr || retry_timer_.active()) {
    return;
  }
  SpoolStats st = spool_->stats();
  if (st.records == 0) {
    first_unsent_.reset();
    return;
  }
  size_t max_records = sink_->max_batch(config_.batch_max);
  if (split_limit_ > 0) {
    max_records = std::min(max_records, split_limit_);
  }
  // Wait up to flush_interval for a full batch.
  MonotonicTime now = loop_now(loop_);
  if (st.records < max_records && first_unsent_) {
    MonotonicTime due = *first_unsent_ + config_.flush_interval;
    if (due > now) {
      if (!flush_timer_.active()) {
        flush_timer_.start(std::chrono::duration_cast<Duration>(due - now) + Duration(1));
      }
      return;
    }
  }
  flush_timer_.stop();
  busy_ = true;
  auto result = std::make_shared<Result<std::vector<SpoolEntry>>>(make_error("not read"));
  std::shared_ptr<Spool> spool = spool_;
  uint64_t max_bytes = config_.batch_bytes;
  std::weak_ptr<bool> alive = alive_;
  uint64_t gen = generation_;
  run_on_pool(
      loop_, [spool, result, max_records, max_bytes] {
        *result = spool->peek(max_records, max_bytes);
      },
      [this, alive, result, gen] {
        if (auto a = alive.lock(); !a || !*a || gen != generation_) {
          return;
        }
        on_peeked(std::move(*result));
      });
}

void Output::on_peeked(Result<std::vector<SpoolEntry>> batch) {
  if (stopped_) {
    busy_ = false;
    return;
  }
  if (!batch.ok()) {
    busy_ = false;
    on_fatal_("output " + config_.name + ": cannot read spool: " + batch.error());
    return;
  }
  if (batch.value().empty()) {
    busy_ = false;
    return;
  }
  auto entries = std::make_shared<std::vector<SpoolEntry>>(std::move(batch).value());
  std::weak_ptr<bool> alive = alive_;
  uint64_t gen = generation_;
  sink_->send(*entries, [this, alive, entries, gen](SendOutcome outcome) {
    if (auto a = alive.lock(); !a || !*a || gen != generation_) {
      return;
    }
    on_outcome(std::move(*entries), std::move(outcome));
  });
}

void Output::on_outcome(std::vector<SpoolEntry> batch, SendOutcome outcome) {
  if (stopped_) {
    busy_ = false;
    return;
  }
  switch (outcome.kind) {
    case SendOutcome::Kind::kAck: {
      size_t n = batch.size();
      ack(n, [this, n] {
        sent_ += n;
        last_success_ = std::chrono::system_clock::now();
        attempt_ = 0;
        if (split_limit_ > 0 && n >= split_limit_) {
          split_limit_ = 0;  // the smaller batch passed: try full batches again
        }
      });
      return;
    }
    case SendOutcome::Kind::kRetry:
      busy_ = false;
      retry_later(outcome);
      return;
    case SendOutcome::Kind::kSplit:
      if (batch.size() > 1) {
        // 413: send the first half first; the rest follows in order.
        split_limit_ = batch.size() / 2;
        busy_ = false;
        ++failed_;
        last_error_ = outcome.error + ": batch of " + std::to_string(batch.size()) +
                      " split in two";
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

void Output::ack(size_t n, std::function<void()> then) {
  auto status = std::make_shared<Status>();
  std::shared_ptr<Spool> spool = spool_;
  std::weak_ptr<bool> alive = alive_;
  uint64_t gen = generation_;
  run_on_pool(
      loop_, [spool, status, n] { *status = spool->ack(n); },
      [this, alive, status, gen, then = std::move(then)] {
        if (auto a = alive.lock(); !a || !*a || gen != generation_) {
          return;
        }
        busy_ = false;
        if (!status->ok()) {
          on_fatal_("output " + config_.name + ": " + status->error());
          return;
        }
        then();
        first_unsent_ = loop_now(loop_) - config_.flush_interval;  // the rest is overdue
        maybe_deliver();
        if (on_acked_) {
          on_acked_();
        }
      });
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

void Output::dead_letter(std::vector<SpoolEntry> batch, const SendOutcome& outcome) {
  ++failed_;
  last_error_ = outcome.error;
  log_error("output " + config_.name + ": endpoint refused a batch of " +
            std::to_string(batch.size()) + " record(s) with " + outcome.error +
            "; moved to dead letters");
  auto entries = std::make_shared<std::vector<SpoolEntry>>(std::move(batch));
  auto removed = std::make_shared<uint64_t>(0);
  auto status = std::make_shared<Status>();
  std::string dir = dead_dir_;
  uint64_t cap = config_.spool_max;
  long code = outcome.status;
  std::string reply = outcome.reply;
  std::weak_ptr<bool> alive = alive_;
  run_on_pool(
      loop_,
      [dir, entries, removed, status, cap, code, reply] {
        *status = write_dead_letter(dir, code, reply, *entries, std::chrono::system_clock::now());
        *removed = trim_dead_letters(dir, cap);
      },
      [this, alive, entries, removed, status] {
        if (auto a = alive.lock(); !a || !*a) {
          return;
        }
        if (!status->ok()) {
          // Not written: keep the batch spooled and try again later.
          busy_ = false;
          SendOutcome retry;
          retry.error = "cannot write dead letter: " + status->error();
          retry_later(retry);
          return;
        }
        dead_dropped_ += *removed;
        size_t n = entries->size();
        ack(n, [this, n] { dead_lettered_ += n; });
      });
}

void Output::resend_state() {
  if (stopped_ || busy_ || !state_provider_ || retry_timer_.active()) {
    return;
  }
  if (spool_ != nullptr && spool_->stats().records > 0) {
    return;  // the spooled records carry newer state; they go first
  }
  std::vector<std::string> open = state_provider_();
  if (open.empty()) {
    return;
  }
  busy_ = true;
  std::weak_ptr<bool> alive = alive_;
  bool sending = sink_->send_state(open, [this, alive](SendOutcome outcome) {
    if (auto a = alive.lock(); !a || !*a) {
      return;
    }
    busy_ = false;
    if (outcome.kind == SendOutcome::Kind::kAck) {
      last_success_ = std::chrono::system_clock::now();
    } else {
      ++failed_;
      last_error_ = outcome.error;
    }
    maybe_deliver();
  });
  if (!sending) {
    busy_ = false;
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
    s.corrupt_frames = st.corrupt_frames;
  }
  s.dropped += dead_dropped_;
  s.sent = sent_;
  s.failed = failed_;
  s.dead_lettered = dead_lettered_;
  s.last_error = last_error_;
  s.last_success = last_success_;
  return s;
}

}  // namespace vigil
