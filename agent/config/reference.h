#pragma once

#include <string>

namespace vigil {

// docs/CONFIGURATION.md, rendered from the key tables of loader.h: a unit test
// compares it with the committed file so that the two cannot drift.
std::string config_reference_markdown();

}  // namespace vigil
