#pragma once

#include <uv.h>

#include "agent/loop/uv_handle.h"
#include "agent/util/time.h"

namespace vigil {

// Gives back the pages that start-up used and steady running does not
// (agent/util/resident_pages.h) once the agent has settled, a while after the start
// and after each reload: when the first collections, the first deliveries and their
// TLS handshakes are behind it. What the agent still uses comes back at its next pass.
class StartUpPages {
 public:
  explicit StartUpPages(uv_loop_t* loop);
  StartUpPages(const StartUpPages&) = delete;
  StartUpPages& operator=(const StartUpPages&) = delete;

  // Releases `after` from now (instead, if already scheduled).
  void schedule(Duration after);
  void stop();
  // How many times the pages were released.
  int releases() const { return releases_; }

 private:
  void release();

  Timer timer_;
  int releases_ = 0;
};

}  // namespace vigil
