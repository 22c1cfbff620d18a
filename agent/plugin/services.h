#pragma once

// Services the core hands to plugins that need the loop. Plugins never see the loop
// itself: they include only agent/plugin/ and agent/util/ (scripts/check_style.sh),
// so what runs on the loop, and for how long, is the core's alone to decide. Each
// is an interface; the core owns the implementation.
namespace vigil {

class Spawner;       // agent/plugin/spawner.h: run a command with a timeout
class FileWatcher;   // agent/plugin/file_watcher.h: change notifications for paths
class ProcessTable;  // agent/plugin/process_table.h: one shared /proc scan
class FileSaver;     // agent/plugin/file_saver.h: durable state files, off the loop
class Prober;        // agent/plugin/prober.h: HTTP and TCP probes of network services
class FdWatcher;     // agent/plugin/fd_watcher.h: readiness of a plugin's own descriptor

struct Services {
  Spawner* spawner = nullptr;
  FileWatcher* watcher = nullptr;
  ProcessTable* processes = nullptr;
  FileSaver* saver = nullptr;
  Prober* prober = nullptr;
  FdWatcher* fds = nullptr;
};

}  // namespace vigil
