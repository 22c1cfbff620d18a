#pragma once

#include <string>

#include "agent/util/time.h"

namespace vigil {

// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; ids made in one
// process are strictly increasing even within one millisecond.
std::string uuid_v7(SystemTime now);
// UUIDv4: random.
std::string uuid_v4();

}  // namespace vigil
