#pragma once

#include <string>

namespace vigil {

// Saves a plugin's small state files (log offsets) durably, off the event loop:
// temp file, fsync, rename, fsync of the folder, on the thread pool. Saves of one
// path are coalesced: while one runs, only the latest contents wait, so a busy
// check costs at most one save in flight and one waiting.
class FileSaver {
 public:
  virtual ~FileSaver() = default;
  // Queues `contents` to replace `path`. A failure is logged once per streak and
  // the contents are tried again with the next save of that path.
  virtual void save(const std::string& path, std::string contents) = 0;
};

}  // namespace vigil
