// `vigil-test`: the agent with its test-only plugins, for end-to-end tests that
// need a collector that blocks on demand. The release binary never has them.
#include "agent/cli/cli.h"
#include "agent/config/plugin_registry.h"
#include "tests/plugins/testblock/testblock.h"

int main(int argc, char** argv) {
  vigil::add_plugin(&vigil::kTestBlockPlugin);
  return vigil::cli::main(argc, argv);
}
