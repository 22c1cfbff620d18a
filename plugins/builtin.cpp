#include "agent/plugin/builtin.h"

#include "plugins/cpu/cpu.h"
#include "plugins/disk/disk.h"
#include "plugins/exec/exec.h"
#include "plugins/http/http.h"
#include "plugins/journal/journal.h"
#include "plugins/load/load.h"
#include "plugins/log/log.h"
#include "plugins/memory/memory.h"
#include "plugins/process/process.h"
#include "plugins/tcp/tcp.h"

namespace vigil {

// Adding a plugin: a folder under plugins/ and one line here.
std::span<const Plugin* const> builtin_plugins() {
  static const Plugin* const kPlugins[] = {
      &kCpuPlugin, &kMemoryPlugin,  &kLoadPlugin, &kDiskPlugin, &kProcessPlugin,
      &kLogPlugin, &kJournalPlugin, &kExecPlugin, &kHttpPlugin, &kTcpPlugin,
  };
  return kPlugins;
}

}  // namespace vigil
