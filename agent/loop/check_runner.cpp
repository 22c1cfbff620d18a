#include "agent/loop/check_runner.h"

#include <exception>

#include "agent/loop/pool.h"

namespace vigil {

namespace {

Result<Sample> guarded_read(Collector& c, const CollectContext& ctx) {
  try {
    return c.read(ctx);
  } catch (const std::exception& e) {
    return make_error(std::string("collector failed: ") + e.what());
  } catch (...) {
    return make_error("collector failed");
  }
}

std::string format_duration(Duration d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + "s";
  }
  return std::to_string(d.count()) + "ms";
}

}  // namespace

CheckRunner::CheckRunner(uv_loop_t* loop, const Clock& clock, const CheckConfig& check,
                         std::shared_ptr<Collector> collector, CollectContext base,
                         ResultFn on_result)
    : loop_(loop),
      clock_(clock),
      name_(check.name),
      interval_(check.interval),
      timeout_(check.timeout),
      may_block_(check.plugin_def != nullptr && check.plugin_def->may_block),
      collector_(std::move(collector)),
      base_(std::move(base)),
      on_result_(std::move(on_result)),
      interval_timer_(loop, [this] { on_due(); }),
      timeout_timer_(loop, [this] { on_timeout(); }) {
  base_.interval = interval_;
  base_.timeout = timeout_;
}

CheckRunner::~CheckRunner() {
  run_.renew();  // a collector that calls back from stop() finds the runner gone
  stop();
}

void CheckRunner::start(MonotonicTime anchor) {
  anchor_ = anchor;
  next_due_ = loop_now(loop_);
  interval_timer_.start(Duration(0));
}

void CheckRunner::stop() {
  interval_timer_.stop();
  timeout_timer_.stop();
  if (collector_ != nullptr) {
    collector_->stop();
  }
}

MonotonicTime CheckRunner::next_beat(MonotonicTime now) const {
  // The next point of the anchor's grid after now: runs do not drift, and a loop
  // that fell behind by more than an interval skips ahead instead of bursting.
  // At least half an interval after now, so that a check started off the beat
  // (by a reload) does not take two samples a moment apart: a rate over a few
  // milliseconds (cpu's) is noise.
  int64_t periods = (now - anchor_) / interval_ + 1;
  // An interval of centuries would overflow the clock: such a check runs once.
  if (periods + 1 > (MonotonicTime::max() - anchor_) / interval_) {
    return MonotonicTime::max();
  }
  MonotonicTime next = anchor_ + periods * interval_;
  if (next - now < interval_ / 2) {
    next += interval_;
  }
  return next;
}

void CheckRunner::on_due() {
  MonotonicTime scheduled = next_due_;
  MonotonicTime now = loop_now(loop_);
  next_due_ = next_beat(now);
  interval_timer_.start_at(next_due_);
  if (in_flight_) {
    if (timed_out_) {
      on_result_(make_error("collection timed out after " + format_duration(timeout_) +
                            " and is still running; run skipped"),
                 scheduled);
    }
    return;
  }
  run_once(scheduled);
}

void CheckRunner::run_once(MonotonicTime scheduled) {
  run_.renew();  // results of earlier runs that come late are dropped
  Liveness::Token run = run_.guard();
  in_flight_ = true;
  timed_out_ = false;
  scheduled_ = scheduled;
  CollectContext ctx = base_;
  ctx.now = scheduled;
  ctx.wall = clock_.wall();
  timeout_timer_.start(timeout_);
  if (may_block_) {
    // The pool thread holds its own collector and context: a hung call may return
    // after the runner is gone.
    auto result = std::make_shared<Result<Sample>>(make_error("collection did not run"));
    bool queued = run_on_pool(
        loop_, [collector = collector_, ctx, result] { *result = guarded_read(*collector, ctx); },
        [this, run, result] {
          if (run.valid()) {
            finish(std::move(*result));
          }
        });
    if (!queued) {
      finish(make_error("cannot queue the collection on the thread pool"));
    }
    return;
  }
  // Async or inline collectors. `done` may run before collect() returns.
  auto done = [this, run](Result<Sample> r) {
    if (run.valid()) {
      finish(std::move(r));
    }
  };
  try {
    collector_->collect(ctx, done);
  } catch (const std::exception& e) {
    finish(make_error(std::string("collector failed: ") + e.what()));
  } catch (...) {
    finish(make_error("collector failed"));
  }
}

void CheckRunner::finish(Result<Sample> result) {
  if (!in_flight_) {
    return;
  }
  in_flight_ = false;
  timeout_timer_.stop();
  if (timed_out_) {
    // Its timeout was already reported as a failure; a late result is stale.
    timed_out_ = false;
    return;
  }
  on_result_(std::move(result), scheduled_);
}

void CheckRunner::on_timeout() {
  if (!in_flight_ || timed_out_) {
    return;
  }
  timed_out_ = true;
  if (!may_block_) {
    // An async collection that ignored its timeout: forget it, and drop its late
    // result.
    in_flight_ = false;
    run_.renew();
  }
  on_result_(make_error("collection timed out after " + format_duration(timeout_)), scheduled_);
}

}  // namespace vigil
