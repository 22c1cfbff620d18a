#include "agent/services/file_watcher_uv.h"

#include <uv.h>

#include <utility>

#include "agent/loop/uv_handle.h"

namespace vigil {

struct UvFileWatcher::Watch {
  UvFileWatcher* owner = nullptr;
  WatchId id = 0;
  Callback callback;
  // Destroyed in reverse order: the sources close before the timer.
  UvHandle<uv_timer_t> timer;
  UvHandle<uv_fs_event_t> event;
  UvHandle<uv_fs_poll_t> poll;
};

// The C callbacks reach the watcher through the Watch in `data`, then look the id
// up again: a callback may have unwatched it meanwhile.
struct WatchAccess {
  static void on_event(uv_fs_event_t* h, const char* /*name*/, int /*events*/,
                       int /*status*/) noexcept {
    auto* w = static_cast<UvFileWatcher::Watch*>(h->data);
    if (w != nullptr) {
      w->owner->on_change(w->id);
    }
  }
  static void on_poll(uv_fs_poll_t* h, int /*status*/, const uv_stat_t* /*prev*/,
                      const uv_stat_t* /*curr*/) noexcept {
    auto* w = static_cast<UvFileWatcher::Watch*>(h->data);
    if (w != nullptr) {
      w->owner->on_change(w->id);
    }
  }
  static void on_timer(uv_timer_t* h) noexcept {
    auto* w = static_cast<UvFileWatcher::Watch*>(h->data);
    if (w != nullptr) {
      w->owner->on_timer(w->id);
    }
  }
};

UvFileWatcher::UvFileWatcher(uv_loop_s* loop, Options options) : loop_(loop), options_(options) {}

UvFileWatcher::~UvFileWatcher() { watches_.clear(); }

Result<FileWatcher::WatchId> UvFileWatcher::watch(const std::string& path, Callback on_change) {
  uv_fs_t req;
  int rc = uv_fs_stat(loop_, &req, path.c_str(), nullptr);
  uv_fs_req_cleanup(&req);
  if (rc < 0) {
    return make_error("cannot watch " + path + ": " + uv_strerror(rc));
  }

  auto w = std::make_unique<Watch>();
  w->owner = this;
  w->id = next_id_++;
  w->callback = std::move(on_change);

  auto* timer = new uv_timer_t;
  uv_timer_init(loop_, timer);  // cannot fail on a live loop
  timer->data = w.get();
  w->timer.adopt(timer);

  if (!options_.force_poll) {
    auto* ev = new uv_fs_event_t;
    uv_fs_event_init(loop_, ev);
    ev->data = w.get();
    w->event.adopt(ev);
    if (uv_fs_event_start(ev, WatchAccess::on_event, path.c_str(), 0) != 0) {
      // inotify refused (watch limit, unsupported file system): poll instead.
      w->event.reset();
    }
  }
  if (w->event.get() == nullptr) {
    auto* poll = new uv_fs_poll_t;
    uv_fs_poll_init(loop_, poll);
    poll->data = w.get();
    w->poll.adopt(poll);
    rc = uv_fs_poll_start(poll, WatchAccess::on_poll, path.c_str(),
                          static_cast<unsigned>(options_.poll_interval.count()));
    if (rc != 0) {
      return make_error("cannot watch " + path + ": " + uv_strerror(rc));
    }
  }
  WatchId id = w->id;
  watches_.emplace(id, std::move(w));
  return id;
}

void UvFileWatcher::unwatch(WatchId id) { watches_.erase(id); }

size_t UvFileWatcher::polling_count() const {
  size_t n = 0;
  for (const auto& [id, w] : watches_) {
    n += w->poll.get() != nullptr ? 1 : 0;
  }
  return n;
}

void UvFileWatcher::on_change(WatchId id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) {
    return;
  }
  uv_timer_t* timer = it->second->timer.get();
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(timer)) == 0) {
    uv_timer_start(timer, WatchAccess::on_timer, static_cast<uint64_t>(options_.coalesce.count()),
                   0);
  }
}

void UvFileWatcher::again(WatchId id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) {
    return;
  }
  // One millisecond, not zero: libuv 1.44 runs a zero timer restarted from its own
  // callback again in the same timer phase, so a backlog would hold the loop. Due
  // a millisecond on, it waits for the next turn, after that turn's poll for I/O.
  // A coalescing delay already running is cut short.
  uv_timer_start(it->second->timer.get(), WatchAccess::on_timer, 1, 0);
}

void UvFileWatcher::on_timer(WatchId id) {
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
