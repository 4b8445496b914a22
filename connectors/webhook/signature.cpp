#include "connectors/webhook/signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace leadrelay::connectors::webhook {
namespace {

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string key_bytes(const std::string& secret) {
  constexpr std::string_view prefix = "whsec_";
  if (secret.rfind(prefix, 0) != 0) return secret;
  const auto encoded = secret.substr(prefix.size());
  std::string out(3 * encoded.size() / 4 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
  if (n < 0) return secret;
  out.resize(static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts padding as zero bytes: drop what the '=' stood for.
  for (auto it = encoded.rbegin(); it != encoded.rend() && *it == '='; ++it) out.pop_back();
  return out;
}

}  // namespace

std::string sign(const std::vector<std::string>& secrets, std::string_view id, std::int64_t timestamp,
                 std::string_view body) {
  std::string payload;
  payload.reserve(id.size() + body.size() + 24);
  payload.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  std::string out;
  for (const auto& secret : secrets) {
    const auto key = key_bytes(secret);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(payload.data()),
         payload.size(), mac, &mac_size);
    if (!out.empty()) out += ' ';
    out += "v1," + base64(mac, mac_size);
  }
  return out;
}

}  // namespace leadrelay::connectors::webhook
