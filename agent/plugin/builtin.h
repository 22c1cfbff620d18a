#pragma once

#include <span>

#include "agent/plugin/collector.h"

namespace vigil {

// Every plugin of the release binary, in one explicit list that plugins/builtin.cpp
// defines: static self-registration breaks in static links (osquery#103,
// envoy#7185). The core reads the list through agent/config/plugin_registry.h and
// never names a plugin itself.
std::span<const Plugin* const> builtin_plugins();

}  // namespace vigil
