#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil {

// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of spool
// frames. Uses the SSE4.2 crc32 instruction when the CPU has it, else a table.
// `crc` is the value returned by a previous call, so a checksum can be built
// over several pieces: crc32c_extend(crc32c_extend(0, a), b) == crc32c(a + b).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);
inline uint32_t crc32c(std::string_view data) { return crc32c_extend(0, data.data(), data.size()); }

// The portable table version, exposed so tests can compare it with the hardware one.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t size);

}  // namespace vigil
