#pragma once
// SHA-256 (OpenSSL) and lower-case hex, for secrets comparison, redelivery keys and the config hash.
#include <array>
#include <span>
#include <string>
#include <string_view>

namespace leadrelay::util {

using Sha256 = std::array<unsigned char, 32>;

Sha256 sha256(std::string_view data);
std::string to_hex(std::span<const unsigned char> bytes);
inline std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

}  // namespace leadrelay::util
