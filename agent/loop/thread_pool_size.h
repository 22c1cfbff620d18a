#pragma once

#include "agent/config/config.h"

namespace vigil {

// libuv's pool has 4 threads shared by every blocking call; four hung statvfs
// calls would starve the spool's fsync. Each blocking check may hold one thread,
// so the pool gets one per blocking check plus room for spool work. Must run
// before the loop first uses the pool; an explicit UV_THREADPOOL_SIZE wins.
void size_thread_pool(const Config& config);

}  // namespace vigil
