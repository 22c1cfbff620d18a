#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// Readiness of a descriptor a plugin owns (the journal's inotify descriptor), a
// service the core hands to plugins so that they never see the loop. Callbacks
// run on the loop thread; they may call update() and unwatch() (their own id
// included) from inside.
//
// A watch calls back when its descriptor is ready for what it waits for, and when
// its timeout has passed. Readiness is level-triggered: a callback that does not
// consume it (read the descriptor) is called again at the next turn of the loop.
// An error on the descriptor (it was closed under the watch) also calls back, so
// that the plugin looks and finds out.
//
// The plugin keeps the descriptor open while it is watched: unwatch before closing
// it. The watcher outlives the collectors that use it: they unwatch in stop() and
// in their destructor.
class FdWatcher {
 public:
  using WatchId = uint64_t;
  using Callback = std::function<void()>;

  struct Interest {
    bool readable = true;   // POLLIN
    bool writable = false;  // POLLOUT
    // Call back once after this long even if the descriptor stays quiet; nullopt:
    // only on readiness. Each update() starts it again; 0 calls back at the next
    // turn of the loop (work cut into slices goes on without blocking it).
    std::optional<Duration> timeout;
  };

  virtual ~FdWatcher() = default;

  // Starts watching `fd`. Fails when the loop cannot poll it (not a descriptor
  // that epoll takes, such as a regular file).
  virtual Result<WatchId> watch(int fd, Interest interest, Callback on_ready) = 0;
  // Changes what a watch waits for, and restarts its timeout. Unknown ids are ignored.
  virtual void update(WatchId id, Interest interest) = 0;
  // Stops a watch; no callback for it runs afterwards. Unknown ids are ignored.
  virtual void unwatch(WatchId id) = 0;
};

}  // namespace vigil
