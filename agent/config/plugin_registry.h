#pragma once

#include <span>
#include <string_view>

#include "agent/plugin/builtin.h"
#include "agent/plugin/collector.h"

namespace vigil {

// A test binary adds its test-only plugins (tests/plugins/) here, before the
// command runs or a test starts; the release binary adds none.
void add_plugin(const Plugin* plugin);
// The built-in plugins and the added ones: what a configuration may name.
std::span<const Plugin* const> all_plugins();
const Plugin* find_plugin(std::string_view name);

}  // namespace vigil
