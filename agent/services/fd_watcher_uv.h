#pragma once

#include <cstddef>
#include <map>
#include <memory>

#include "agent/plugin/fd_watcher.h"

struct uv_loop_s;  // uv.h stays out of headers: only .cpp files that use libuv include it

namespace vigil {

// FdWatcher on a libuv loop: one uv_poll_t (epoll), one uv_timer_t and one
// uv_idle_t (the timeout 0: the next turn of the loop) per watch.
// This is how curl's multi-uv.c drives libcurl's sockets, and how a reader drives
// sd_journal_get_fd(3): poll for sd_journal_get_events(), wake at
// sd_journal_get_timeout().
class UvFdWatcher final : public FdWatcher {
 public:
  // The loop must outlive this object and be run after its destruction, so that
  // the closed handles are freed (libuv frees memory only in close callbacks).
  explicit UvFdWatcher(uv_loop_s* loop);
  ~UvFdWatcher() override;
  UvFdWatcher(const UvFdWatcher&) = delete;
  UvFdWatcher& operator=(const UvFdWatcher&) = delete;

  Result<WatchId> watch(int fd, Interest interest, Callback on_ready) override;
  void update(WatchId id, Interest interest) override;
  void unwatch(WatchId id) override;

  size_t watch_count() const { return watches_.size(); }

  struct Watch;  // public for the C trampolines in the .cpp only

 private:
  friend struct FdWatchAccess;
  void arm(Watch& w, const Interest& interest);
  void on_ready(WatchId id);

  uv_loop_s* loop_;
  WatchId next_id_ = 1;
  std::map<WatchId, std::unique_ptr<Watch>> watches_;
};

}  // namespace vigil
