#pragma once

#include <string>

#include "agent/status/snapshot.h"

namespace vigil {

// GET /status (SPEC §6): agent, checks, open incidents and problems, outputs, loss.
std::string status_json(const StatusSnapshot& s);

}  // namespace vigil
