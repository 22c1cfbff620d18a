#include "agent/loop/pool.h"

#include <uv.h>

namespace vigil {
namespace {

struct PoolWork {
  uv_work_t req{};
  std::function<void()> work;
  std::function<void()> after;
};

}  // namespace

bool run_on_pool(uv_loop_t* loop, std::function<void()> work, std::function<void()> after) {
  auto* w = new PoolWork;
  w->work = std::move(work);
  w->after = std::move(after);
  w->req.data = w;
  int rc = uv_queue_work(
      loop, &w->req, [](uv_work_t* req) noexcept { static_cast<PoolWork*>(req->data)->work(); },
      [](uv_work_t* req, int) noexcept {
        auto* pw = static_cast<PoolWork*>(req->data);
        if (pw->after) {
          pw->after();
        }
        delete pw;
      });
  if (rc != 0) {
    delete w;
    return false;
  }
  return true;
}

}  // namespace vigil
