#pragma once
// SHA-256 (OpenSSL), lower-case hex and base64, for secrets comparison, signatures, redelivery keys and the config
// hash.
#include <array>
#include <span>
#include <string>
#include <string_view>

namespace leadrelay::util {

using Sha256 = std::array<unsigned char, 32>;

Sha256 sha256(std::string_view data);
std::string to_hex(std::span<const unsigned char> bytes);
inline std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(std::string_view bytes);
// Decodes standard base64 (padding required, surrounding white space ignored); false when it is not base64.
bool base64_decode(std::string_view text, std::string& bytes);

}  // namespace leadrelay::util
