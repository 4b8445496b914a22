#include "daemon/store/crc32c.hpp"

#include <boost/crc.hpp>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace leadrelay::store {
namespace {

using Portable = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

std::uint32_t portable(std::uint32_t crc, const void* data, std::size_t size) {
  // Boost.CRC's running state is the pre-final-XOR remainder: resume it from a finished value.
  Portable c(crc ^ 0xFFFFFFFFu);
  c.process_bytes(data, size);
  return c.checksum();
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t hardware(std::uint32_t crc, const void* data, std::size_t size) {
  auto p = static_cast<const unsigned char*>(data);
  std::uint64_t c = crc ^ 0xFFFFFFFFu;
  for (; size >= 8; size -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; size > 0; --size, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32 ^ 0xFFFFFFFFu;
}
const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) {
#if defined(__x86_64__)
  if (kHasSse42) return hardware(crc, data, size);
#endif
  return portable(crc, data, size);
}

}  // namespace leadrelay::store
