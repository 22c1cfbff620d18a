#pragma once

#include <span>
#include <string_view>

#include "agent/plugin/collector.h"

namespace vigil {

// Every plugin, in one explicit list (plugins/builtin.cpp): static
// self-registration breaks in static links (osquery#103, envoy#7185).
std::span<const Plugin* const> builtin_plugins();
const Plugin* find_plugin(std::string_view name);
// Every plugin, the test-only ones too whatever VIGIL_TEST_PLUGINS says: for
// the docs and for tests.
std::span<const Plugin* const> all_plugins();

}  // namespace vigil
