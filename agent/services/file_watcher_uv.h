#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "agent/plugin/file_watcher.h"
#include "agent/util/time.h"

struct uv_loop_s;  // uv.h stays out of headers: only .cpp files that use libuv include it

namespace vigil {

// FileWatcher on a libuv loop: one uv_fs_event_t (inotify) per watch, and a
// uv_fs_poll_t (stat every poll_interval) where inotify refuses, for instance when
// fs.inotify.max_user_watches is used up. A uv_timer_t per watch coalesces bursts:
// the first change arms it, and the callback runs when it fires.
class UvFileWatcher final : public FileWatcher {
 public:
  struct Options {
    Duration coalesce{50};         // delay between a change and its callback
    Duration poll_interval{1000};  // stat period of the polling fallback
    bool force_poll = false;       // tests: use the fallback for every watch
  };

  // The loop must outlive this object and be run after its destruction, so that
  // the closed handles are freed (libuv frees memory only in close callbacks).
  explicit UvFileWatcher(uv_loop_s* loop) : UvFileWatcher(loop, Options{}) {}
  UvFileWatcher(uv_loop_s* loop, Options options);
  ~UvFileWatcher() override;
  UvFileWatcher(const UvFileWatcher&) = delete;
  UvFileWatcher& operator=(const UvFileWatcher&) = delete;

  Result<WatchId> watch(const std::string& path, Callback on_change) override;
  void unwatch(WatchId id) override;
  void again(WatchId id) override;

  size_t watch_count() const { return watches_.size(); }
  size_t polling_count() const;  // watches served by the fallback

  struct Watch;  // public for the C trampolines in the .cpp only

 private:
  friend struct WatchAccess;
  void on_change(WatchId id);  // a notification: arm the coalescing timer
  void on_timer(WatchId id);   // the timer fired: run the callback

  uv_loop_s* loop_;
  Options options_;
  WatchId next_id_ = 1;
  std::map<WatchId, std::unique_ptr<Watch>> watches_;
};

}  // namespace vigil
