#pragma once

#include <cstdint>
#include <string_view>

#include "agent/util/result.h"
#include "plugins/memory/meminfo.h"

// cgroup v2 memory files:
//
//   memory.current  bytes in use, page cache included: `123456789`
//   memory.max      the limit in bytes, or `max`
//   memory.stat     `KEY VALUE` lines; inactive_file is cache the kernel
//                   reclaims first
namespace vigil {

// A single byte count (memory.current).
Result<uint64_t> parse_cgroup_bytes(std::string_view text);
// memory.max: bytes, or 0 for `max` (no limit).
Result<uint64_t> parse_cgroup_memory_max(std::string_view text, bool* unlimited);
// The inactive_file line of memory.stat.
Result<uint64_t> parse_inactive_file(std::string_view text);

// Figures relative to a cgroup, as the kubelet counts them: working set =
// current − inactive_file (at least 0), used_percent = working set / limit,
// available_bytes = limit − working set (at least 0). swap_used_percent is left
// 0 for the caller to fill with the host's.
MemoryFigures cgroup_memory(uint64_t current, uint64_t inactive_file, uint64_t limit);

}  // namespace vigil
