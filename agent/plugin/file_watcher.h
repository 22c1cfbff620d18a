#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/util/result.h"

namespace vigil {

// Change notifications for paths, a service the core hands to plugins (the log
// tailer) so that they never see the loop. Callbacks run on the loop thread; they
// may call watch() and unwatch() (their own id included) from inside.
//
// A notification only says "something under this path may have changed": the
// plugin looks for itself. Notifications are coalesced (many writes to a busy log
// give one callback per short delay), and the implementation may fall back to
// polling where kernel notifications are unavailable, so they can come late but a
// change is never reported without a callback following it.
//
// The watcher outlives the collectors that use it: they unwatch in stop() and in
// their destructor.
class FileWatcher {
 public:
  using WatchId = uint64_t;
  using Callback = std::function<void()>;

  virtual ~FileWatcher() = default;

  // Watches a file or a folder (a folder reports changes to the files in it,
  // creations, renames and deletions included). Fails when the path cannot be
  // watched at all (it does not exist).
  virtual Result<WatchId> watch(const std::string& path, Callback on_change) = 0;
  // Stops a watch; no callback for it runs afterwards. Unknown ids are ignored.
  virtual void unwatch(WatchId id) = 0;
  // Runs the watch's callback again at the loop's next turn, once the timers and
  // I/O waiting now are served: for a plugin that stopped a bounded pass with more
  // to read (a log backlog), so that the backlog drains at reading speed without
  // holding the loop. Unknown ids are ignored.
  virtual void again(WatchId id) = 0;
};

}  // namespace vigil
