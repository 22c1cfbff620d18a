#pragma once

#include <string>

#include "agent/status/snapshot.h"

namespace vigil {

// GET /status (docs/STATUS.md): agent, checks, open incidents and problems, outputs, loss.
std::string status_json(const StatusSnapshot& s);

}  // namespace vigil
