#include <cstdlib>

#include "agent/plugin/registry.h"
#include "plugins/cpu/cpu.h"
#include "plugins/disk/disk.h"
#include "plugins/exec/exec.h"
#include "plugins/load/load.h"
#include "plugins/log/log.h"
#include "plugins/memory/memory.h"
#include "plugins/process/process.h"
#include "plugins/testblock/testblock.h"

namespace vigil {

namespace {

// Adding a plugin: a folder under plugins/ and one line here.
const Plugin* const kPlugins[] = {
    &kCpuPlugin,       &kMemoryPlugin, &kLoadPlugin, &kDiskPlugin,
    &kProcessPlugin,   &kLogPlugin,    &kExecPlugin,
    &kTestBlockPlugin,  // test-only: listed only when VIGIL_TEST_PLUGINS is set
};

}  // namespace

std::span<const Plugin* const> builtin_plugins() {
  static const bool kTesting = getenv("VIGIL_TEST_PLUGINS") != nullptr;
  return std::span<const Plugin* const>(kPlugins,
                                        kTesting ? std::size(kPlugins) : std::size(kPlugins) - 1);
}

std::span<const Plugin* const> all_plugins() { return kPlugins; }

}  // namespace vigil
