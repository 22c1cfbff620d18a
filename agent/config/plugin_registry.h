#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "agent/plugin/builtin.h"
#include "agent/plugin/collector.h"

namespace vigil {

// A test binary adds its test-only plugins here, before the command runs.
void add_plugin(const Plugin* plugin);
// The built-in plugins and the added ones: what a configuration may name.
std::vector<const Plugin*> all_plugins();
const Plugin* find_plugin(std::string_view name);

}  // namespace vigil
