#pragma once

#include <functional>

struct uv_loop_s;

namespace vigil {

// Runs `work` on libuv's thread pool, then `after` on the loop thread. The work
// item owns both functions: whatever they capture must outlive a hung call, so
// capture shared_ptrs, not raw owners. Returns false (and runs neither) when the
// pool refuses the work.
bool run_on_pool(uv_loop_s* loop, std::function<void()> work, std::function<void()> after);

}  // namespace vigil
