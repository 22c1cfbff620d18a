#include "agent/services/pool_file_saver.h"

#include "agent/loop/pool.h"
#include "agent/util/fs.h"
#include "agent/util/log.h"

namespace vigil {

PoolFileSaver::PoolFileSaver(uv_loop_s* loop) : loop_(loop) {}

PoolFileSaver::~PoolFileSaver() = default;

// Saves of one path are ordered by sequence number: a save never replaces the
// contents of a newer one, whichever thread gets the lock first.
Status PoolFileSaver::write_newest(Disk& disk, const std::string& path, const std::string& contents,
                                   uint64_t seq) {
  std::lock_guard<std::mutex> lock(disk.mu);
  uint64_t& newest = disk.written[path];
  if (seq < newest) {
    return {};
  }
  newest = seq;
  return write_file_atomic(path, contents);
}

void PoolFileSaver::save(const std::string& path, std::string contents) {
  File& f = files_[path];
  f.next = std::move(contents);
  f.next_seq = ++seq_;
  if (!f.running) {
    start(path, f);
  }
}

void PoolFileSaver::start(const std::string& path, File& f) {
  auto contents = std::make_shared<std::string>(std::move(*f.next));
  uint64_t seq = f.next_seq;
  f.next.reset();
  f.running = true;
  auto status = std::make_shared<Status>();
  std::shared_ptr<Disk> disk = disk_;
  Liveness::Token alive = liveness_.guard();
  bool queued = run_on_pool(
      loop_,
      [disk, path, contents, status, seq] { *status = write_newest(*disk, path, *contents, seq); },
      [this, alive, path, status] {
        if (!alive.valid()) {
          return;
        }
        auto it = files_.find(path);
        if (it == files_.end()) {
          return;  // flushed at exit meanwhile
        }
        it->second.running = false;
        if (status->ok()) {
          failing_.erase(path);
        } else if (failing_.insert(path).second) {
          // Once per failure streak: a read-only or full state_dir must not flood
          // the log. The plugin's next save of this path tries again.
          log_warning("cannot save " + path + ": " + status->error());
        }
        if (it->second.next) {
          start(path, it->second);
        } else {
          files_.erase(it);
        }
      });
  if (!queued) {
    files_.erase(path);
    log_warning("cannot save " + path + ": the thread pool refused the work");
  }
}

void PoolFileSaver::flush() {
  for (auto& [path, f] : files_) {
    if (f.next) {
      if (Status s = write_newest(*disk_, path, *f.next, f.next_seq); !s.ok()) {
        log_warning("cannot save " + path + ": " + s.error());
      }
    }
  }
  files_.clear();
}

}  // namespace vigil
