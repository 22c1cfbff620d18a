#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "agent/loop/liveness.h"
#include "agent/plugin/file_saver.h"
#include "agent/util/result.h"

struct uv_loop_s;

namespace vigil {

// FileSaver on libuv's thread pool: one save in flight per path, the latest
// contents waiting behind it.
class PoolFileSaver final : public FileSaver {
 public:
  explicit PoolFileSaver(uv_loop_s* loop);
  ~PoolFileSaver() override;
  PoolFileSaver(const PoolFileSaver&) = delete;
  PoolFileSaver& operator=(const PoolFileSaver&) = delete;

  void save(const std::string& path, std::string contents) override;
  // At exit: writes what still waits, on this thread, after any save running on
  // the pool. Blocks for as long as the disk takes.
  void flush();
  // Paths with a save running or waiting, for tests.
  size_t busy() const { return files_.size(); }

 private:
  struct File {
    bool running = false;
    std::optional<std::string> next;  // waiting behind the running save
    uint64_t next_seq = 0;
  };
  // Shared with the pool's work items, which may outlive this object.
  struct Disk {
    std::mutex mu;
    std::map<std::string, uint64_t> written;  // guarded by mu: newest save per path
  };
  void start(const std::string& path, File& f);
  static Status write_newest(Disk& disk, const std::string& path, const std::string& contents,
                             uint64_t seq);

  uv_loop_s* loop_;
  std::map<std::string, File> files_;  // paths with a save running or waiting
  std::set<std::string> failing_;      // paths whose last save failed (logged once)
  uint64_t seq_ = 0;
  std::shared_ptr<Disk> disk_ = std::make_shared<Disk>();
  Liveness liveness_;  // last member: gone first, so late callbacks find it stale
};

}  // namespace vigil
