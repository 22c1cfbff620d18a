#include "agent/loop/start_up_pages.h"

#include <string>

#include "agent/util/log.h"
#include "agent/util/resident_pages.h"

namespace vigil {

StartUpPages::StartUpPages(uv_loop_t* loop) : timer_(loop, [this] { release(); }) {}

void StartUpPages::schedule(Duration after) { timer_.start(after); }

void StartUpPages::stop() { timer_.stop(); }

void StartUpPages::release() {
  ReleasedPages r = release_start_up_pages();
  ++releases_;
  if (!log_enabled(LogLevel::kDebug)) {
    return;  // building the message alone would map code back
  }
  log_debug("gave back start-up pages of " + std::to_string(r.objects) + " object(s): VmRSS " +
            std::to_string(r.resident_before / 1024) + " KiB -> " +
            std::to_string(r.resident_after / 1024) + " KiB");
}

}  // namespace vigil
