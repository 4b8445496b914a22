#pragma once
// CRC-32C (Castagnoli), the checksum of the intake log's records (as in LevelDB's log and etcd's WAL). The SSE4.2
// crc32 instruction when the CPU has it (8 bytes a cycle), Boost.CRC's table otherwise; both give the same value.
#include <cstddef>
#include <cstdint>

namespace leadrelay::store {

// Extends `crc` (0 to start) over `size` bytes.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace leadrelay::store
