#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/spool/spool.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// Writes `DIR/<UTC time as 20261124T131502.123Z>-<first record id>.json` holding
// {"status": CODE, "reply": "first 4 KiB of the reply", "records": [...]} durably.
Status write_dead_letter(const std::string& dir, long status, const std::string& reply,
                         const std::vector<SpoolEntry>& records, SystemTime now);

// Removes the oldest dead-letter files until the folder holds at most cap bytes;
// returns how many records the removed files held (they count as dropped).
uint64_t trim_dead_letters(const std::string& dir, uint64_t cap);

}  // namespace vigil
