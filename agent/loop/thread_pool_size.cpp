#include "agent/loop/thread_pool_size.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "agent/plugin/collector.h"

namespace vigil {

void size_thread_pool(const Config& config) {
  if (getenv("UV_THREADPOOL_SIZE") != nullptr) {
    return;
  }
  size_t blocking = 0;
  for (const CheckConfig& c : config.checks) {
    if (c.enabled && c.plugin_def != nullptr && c.plugin_def->may_block) {
      ++blocking;
    }
  }
  size_t size = std::clamp<size_t>(blocking + 2 * config.outputs.size() + 2, 4, 128);
  setenv("UV_THREADPOOL_SIZE", std::to_string(size).c_str(), 1);
}

}  // namespace vigil
