#include "agent/services/service_set.h"

#include <uv.h>

#include "agent/services/fd_watcher_uv.h"
#include "agent/services/file_watcher_uv.h"
#include "agent/services/net_prober.h"
#include "agent/services/pool_file_saver.h"
#include "agent/services/posix_spawner.h"
#include "agent/services/process_table_proc.h"

namespace vigil {

struct ServiceSet::Impl {
  explicit Impl(uv_loop_t* loop)
      : spawner(loop), watcher(loop), saver(loop), prober(loop), fds(loop) {}
  PosixSpawner spawner;
  UvFileWatcher watcher;
  ProcProcessTable processes;
  PoolFileSaver saver;
  // Loads libcurl at its first HTTP or TLS probe, not before: an agent
  // without such checks never maps it.
  NetProber prober;
  // Polls the descriptors of plugins that bring their own (a journal check's).
  UvFdWatcher fds;
};

ServiceSet::ServiceSet(uv_loop_t* loop) : impl_(std::make_unique<Impl>(loop)) {
  services_.spawner = &impl_->spawner;
  services_.watcher = &impl_->watcher;
  services_.processes = &impl_->processes;
  services_.saver = &impl_->saver;
  services_.prober = &impl_->prober;
  services_.fds = &impl_->fds;
}

ServiceSet::~ServiceSet() = default;

void ServiceSet::flush() { impl_->saver.flush(); }

}  // namespace vigil
