#include "agent/services/fd_watcher_uv.h"

#include <uv.h>

#include <string>
#include <utility>

#include "agent/loop/uv_handle.h"

namespace vigil {

struct UvFdWatcher::Watch {
  UvFdWatcher* owner = nullptr;
  WatchId id = 0;
  Callback callback;
  // Destroyed in reverse order: the poll closes before the timers.
  UvHandle<uv_timer_t> timer;
  UvHandle<uv_idle_t> next_turn;
  UvHandle<uv_poll_t> poll;
};

// The C callbacks reach the watcher through the Watch in `data`, then look the id
// up again: a callback may have unwatched it meanwhile.
struct FdWatchAccess {
  // A negative status (the descriptor was closed or failed) calls back too: the
  // plugin finds out by using it.
  static void on_poll(uv_poll_t* h, int /*status*/, int /*events*/) noexcept {
    auto* w = static_cast<UvFdWatcher::Watch*>(h->data);
    if (w != nullptr) {
      w->owner->on_ready(w->id);
    }
  }
  static void on_timer(uv_timer_t* h) noexcept {
    auto* w = static_cast<UvFdWatcher::Watch*>(h->data);
    if (w != nullptr) {
      w->owner->on_ready(w->id);
    }
  }
  static void on_idle(uv_idle_t* h) noexcept {
    uv_idle_stop(h);  // once
    auto* w = static_cast<UvFdWatcher::Watch*>(h->data);
    if (w != nullptr) {
      w->owner->on_ready(w->id);
    }
  }
};

UvFdWatcher::UvFdWatcher(uv_loop_s* loop) : loop_(loop) {}

UvFdWatcher::~UvFdWatcher() { watches_.clear(); }

Result<FdWatcher::WatchId> UvFdWatcher::watch(int fd, Interest interest, Callback on_ready) {
  auto w = std::make_unique<Watch>();
  w->owner = this;
  w->id = next_id_++;
  w->callback = std::move(on_ready);

  auto* poll = new uv_poll_t;
  // Fails before it initialises anything (a regular file, a descriptor already
  // polled on this loop): the handle is then freed here, not closed.
  int rc = uv_poll_init(loop_, poll, fd);
  if (rc != 0) {
    delete poll;
    return make_error("cannot poll descriptor " + std::to_string(fd) + ": " + uv_strerror(rc));
  }
  poll->data = w.get();
  w->poll.adopt(poll);

  auto* timer = new uv_timer_t;
  uv_timer_init(loop_, timer);  // cannot fail on a live loop
  timer->data = w.get();
  w->timer.adopt(timer);
  auto* idle = new uv_idle_t;
  uv_idle_init(loop_, idle);  // cannot fail on a live loop
  idle->data = w.get();
  w->next_turn.adopt(idle);

  arm(*w, interest);
  WatchId id = w->id;
  watches_.emplace(id, std::move(w));
  return id;
}

void UvFdWatcher::update(WatchId id, Interest interest) {
  auto it = watches_.find(id);
  if (it != watches_.end()) {
    arm(*it->second, interest);
  }
}

void UvFdWatcher::arm(Watch& w, const Interest& interest) {
  int events = (interest.readable ? UV_READABLE : 0) | (interest.writable ? UV_WRITABLE : 0);
  if (events != 0) {
    uv_poll_start(w.poll.get(), events, FdWatchAccess::on_poll);
  } else {
    uv_poll_stop(w.poll.get());
  }
  uv_timer_stop(w.timer.get());
  uv_idle_stop(w.next_turn.get());
  if (!interest.timeout.has_value()) {
    return;
  }
  if (interest.timeout->count() <= 0) {
    // Not a timer of 0 ms: libuv 1.44 runs a timer that its own callback starts
    // again with 0 ms in the same pass over the timers, so a reader going
    // through a backlog slice by slice would hold the loop until the end. An
    // idle handle runs once per turn, and keeps that turn's poll for I/O from
    // waiting: the slices alternate with everything else the loop serves.
    uv_idle_start(w.next_turn.get(), FdWatchAccess::on_idle);
  } else {
    uv_timer_start(w.timer.get(), FdWatchAccess::on_timer,
                   static_cast<uint64_t>(interest.timeout->count()), 0);
  }
}

void UvFdWatcher::unwatch(WatchId id) { watches_.erase(id); }

void UvFdWatcher::on_ready(WatchId id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) {
    return;
  }
  // A copy: the callback may unwatch its own id, which destroys the Watch.
  Callback callback = it->second->callback;
  if (callback) {
    callback();
  }
}

}  // namespace vigil
