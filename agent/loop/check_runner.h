#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/config/config.h"
#include "agent/loop/liveness.h"
#include "agent/loop/uv_handle.h"
#include "agent/plugin/collector.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// Runs one check on its interval: calls the collector (inline, on the thread pool
// for plugins that may block, or asynchronously), enforces the timeout, and
// reports every outcome, a skipped run included, to `on_result`.
//
// A blocking call that passed its timeout cannot be cancelled (a hung statvfs):
// it stays in flight, owned by its work item, and each run that falls due
// meanwhile is reported as another failure without starting a second call, so a
// check never holds more than one pool thread.
class CheckRunner {
 public:
  using ResultFn = std::function<void(Result<Sample>, MonotonicTime scheduled)>;

  // `clock` gives the samples' wall time; runs are timed by libuv on the host's
  // monotonic clock.
  CheckRunner(uv_loop_t* loop, const Clock& clock, const CheckConfig& check,
              std::shared_ptr<Collector> collector, CollectContext base, ResultFn on_result);
  ~CheckRunner();
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  // First run at once; then runs fall due at anchor + k × interval. Runners
  // that share an anchor and an interval run in the same loop turn: an agent
  // wakes once for all of them, however many there are and whenever each
  // started (a check added at a reload joins the others' beat at its second
  // run).
  void start(MonotonicTime anchor);
  void stop();
  const std::string& name() const { return name_; }

 private:
  MonotonicTime next_beat(MonotonicTime now) const;
  void on_due();
  void run_once(MonotonicTime scheduled);
  void finish(Result<Sample> result);
  void on_timeout();

  uv_loop_t* loop_;
  const Clock& clock_;
  std::string name_;
  Duration interval_;
  Duration timeout_;
  bool may_block_;
  std::shared_ptr<Collector> collector_;
  CollectContext base_;
  ResultFn on_result_;
  Timer interval_timer_;
  Timer timeout_timer_;
  bool in_flight_ = false;
  bool timed_out_ = false;  // the call in flight passed its timeout
  MonotonicTime scheduled_{};
  MonotonicTime anchor_{};
  MonotonicTime next_due_{};
  // Renewed at each run: callbacks of an earlier run, or of a runner that is gone,
  // find their token stale.
  Liveness run_;
};

}  // namespace vigil
