#include "daemon/model/lead_id.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace leadrelay::model {
namespace {
std::mutex g_mutex;
std::int64_t g_last_ms = -1;
std::uint16_t g_counter = 0;
// Random bits come from OpenSSL's DRBG 4 KiB at a time: one call per 256 ids instead of one per id (each call asks
// the kernel for the process id, for fork safety; a system call costs ~1 µs on a virtual machine). leadrelay does
// not fork, so the pool is never shared by two processes.
unsigned char g_pool[4096];
std::size_t g_pool_used = sizeof g_pool;

constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string new_lead_id(std::int64_t unix_ms) {
  unsigned char b[16];
  std::uint16_t seq = 0;
  {
    std::lock_guard lock(g_mutex);
    if (g_pool_used + sizeof b > sizeof g_pool) {
      if (RAND_bytes(g_pool, sizeof g_pool) != 1) throw std::runtime_error("RAND_bytes failed");
      g_pool_used = 0;
    }
    std::copy_n(g_pool + g_pool_used, sizeof b, b);
    g_pool_used += sizeof b;
    if (unix_ms <= g_last_ms) {
      // Same millisecond (or the clock stepped back): keep the last time and count up, so order holds.
      unix_ms = g_last_ms;
      if (++g_counter > 0x0fff) {
        ++g_last_ms;
        unix_ms = g_last_ms;
        g_counter = 0;
      }
    } else {
      g_last_ms = unix_ms;
      g_counter = static_cast<std::uint16_t>((b[6] << 4 | b[7] >> 4) & 0x01ff);  // random start, room to count
    }
    seq = g_counter;
  }
  const auto ms = static_cast<std::uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | ((seq >> 8) & 0x0f));
  b[7] = static_cast<unsigned char>(seq & 0xff);
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));  // variant 10

  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

bool is_lead_id(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (t[i] == '-')) return false;
    if (!dash && std::string_view(kHex).find(t[i]) == std::string_view::npos) return false;
  }
  return t[14] == '7' && std::string_view("89ab").find(t[19]) != std::string_view::npos;
}

std::int64_t lead_id_time_ms(std::string_view id) {
  std::uint64_t ms = 0;
  for (std::size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;
    const auto v = std::string_view(kHex).find(id[i]);
    ms = (ms << 4) | static_cast<std::uint64_t>(v);
  }
  return static_cast<std::int64_t>(ms);
}

}  // namespace leadrelay::model
