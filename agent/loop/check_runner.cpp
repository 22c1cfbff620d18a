#include "agent/loop/check_runner.h"

#include <exception>

namespace vigil {

// One blocking collection on the thread pool. It owns what the pool thread uses
// (the collector and the context), because the runner may be gone when a hung
// call finally returns; it finds the runner again through `alive`.
struct CheckRunner::Work {
  uv_work_t req{};
  std::shared_ptr<Collector> collector;
  CollectContext ctx;
  std::shared_ptr<bool> alive;
  CheckRunner* runner = nullptr;
  uint64_t generation = 0;
  Result<Sample> result = make_error("collection did not run");
};

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

CheckRunner::CheckRunner(uv_loop_t* loop, const CheckConfig& check,
                         std::shared_ptr<Collector> collector, CollectContext base,
                         ResultFn on_result)
    : loop_(loop),
      name_(check.name),
      interval_(check.interval),
      timeout_(check.timeout),
      may_block_(check.plugin_def != nullptr && check.plugin_def->may_block),
      collector_(std::move(collector)),
      base_(std::move(base)),
      on_result_(std::move(on_result)),
      interval_timer_(loop, [this] { on_due(); }),
      timeout_timer_(loop, [this] { on_timeout(); }),
      alive_(std::make_shared<bool>(true)) {
  base_.interval = interval_;
  base_.timeout = timeout_;
}

CheckRunner::~CheckRunner() {
  *alive_ = false;
  stop();
}

void CheckRunner::start(Duration splay) {
  next_due_ = loop_now(loop_) + splay;
  interval_timer_.start(splay);
}

void CheckRunner::stop() {
  interval_timer_.stop();
  timeout_timer_.stop();
  if (collector_ != nullptr) {
    collector_->stop();
  }
}

void CheckRunner::on_due() {
  MonotonicTime scheduled = next_due_;
  MonotonicTime now = loop_now(loop_);
  // Schedule from the previous due time, not from now, so runs do not drift; if
  // the loop fell behind by more than an interval, skip ahead instead of bursting.
  next_due_ += interval_;
  if (next_due_ <= now) {
    next_due_ = now + interval_;
  }
  interval_timer_.start(std::chrono::duration_cast<Duration>(next_due_ - now));
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
  uint64_t generation = ++generation_;
  in_flight_ = true;
  timed_out_ = false;
  scheduled_ = scheduled;
  CollectContext ctx = base_;
  ctx.now = scheduled;
  ctx.wall = std::chrono::system_clock::now();
  timeout_timer_.start(timeout_);
  if (may_block_) {
    auto* w = new Work;
    w->collector = collector_;
    w->ctx = std::move(ctx);
    w->alive = alive_;
    w->runner = this;
    w->generation = generation;
    w->req.data = w;
    int rc = uv_queue_work(
        loop_, &w->req,
        [](uv_work_t* req) noexcept {
          auto* work = static_cast<Work*>(req->data);
          work->result = guarded_read(*work->collector, work->ctx);
        },
        [](uv_work_t* req, int status) noexcept {
          auto* work = static_cast<Work*>(req->data);
          if (*work->alive) {
            work->runner->finish(work->generation, status == UV_ECANCELED
                                                       ? Result<Sample>(make_error("cancelled"))
                                                       : std::move(work->result));
          }
          delete work;
        });
    if (rc != 0) {
      delete w;
      finish(generation, make_error(std::string("cannot queue collection: ") + uv_strerror(rc)));
    }
    return;
  }
  // Async or inline collectors. `done` may run before collect() returns.
  std::weak_ptr<bool> alive = alive_;
  auto done = [this, alive, generation](Result<Sample> r) {
    if (auto a = alive.lock(); a && *a) {
      finish(generation, std::move(r));
    }
  };
  try {
    collector_->collect(ctx, done);
  } catch (const std::exception& e) {
    finish(generation, make_error(std::string("collector failed: ") + e.what()));
  } catch (...) {
    finish(generation, make_error("collector failed"));
  }
}

void CheckRunner::finish(uint64_t generation, Result<Sample> result) {
  if (generation != generation_ || !in_flight_) {
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
    // An async collection that ignored its timeout: forget it, its late result
    // is dropped by generation.
    in_flight_ = false;
    ++generation_;
  }
  on_result_(make_error("collection timed out after " + format_duration(timeout_)), scheduled_);
}

}  // namespace vigil
