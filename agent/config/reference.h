#pragma once

#include <string>
#include <string_view>

#include "agent/plugin/collector.h"
#include "agent/util/result.h"

namespace vigil {

// docs/CONFIGURATION.md, rendered from the key tables of the core sections: a
// unit test compares it with the committed file so that the two cannot drift.
std::string config_reference_markdown();

// Each plugin's README holds its keys between these markers, rendered from the
// plugin's key table; a unit test compares them too.
inline constexpr std::string_view kKeysBegin = "<!-- keys:begin -->";
inline constexpr std::string_view kKeysEnd = "<!-- keys:end -->";

// What goes between the markers: the plugin's key table, or a line saying it
// has none, and its own default timeout if it has one.
std::string plugin_keys_markdown(const Plugin& plugin);

// A README with what is between its markers rendered anew; an error when it
// has no markers.
Result<std::string> with_plugin_keys(std::string_view readme, const Plugin& plugin);

}  // namespace vigil
