#include "daemon/util/standard_webhooks.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/util/digest.hpp"

namespace leadrelay::util::standard_webhooks {
namespace {

std::string key_bytes(const std::string& secret) {
  constexpr std::string_view prefix = "whsec_";
  if (secret.rfind(prefix, 0) != 0) return secret;
  std::string out;
  return util::base64_decode(std::string_view(secret).substr(prefix.size()), out) ? out : secret;
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
    out += "v1," + util::base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
  }
  return out;
}

}  // namespace leadrelay::util::standard_webhooks
