#include "daemon/intake/auth.hpp"

#include <openssl/crypto.h>

#include "daemon/util/standard_webhooks.hpp"
#include "daemon/util/digest.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::intake {
using util::sha256;

SourceAuth::SourceAuth(const AuthConfig& config)
    : type_(config.type), param_(config.param), tolerance_(config.tolerance) {
  for (const auto& s : config.secrets) digests_.push_back(sha256(s));
  if (type_ == AuthType::Hmac) hmac_secrets_ = config.secrets;
  if (type_ == AuthType::PartnerCenter) certificates_ = std::make_shared<SigningCertificates>(config.certificates);
}

bool SourceAuth::check_rsa_signature(const SigningKey* key, std::string_view algorithm, std::string_view signature,
                                     std::string_view body) const {
  algorithm = util::trim(algorithm);
  if (!algorithm.empty() && !util::iequals(algorithm, "rsa-sha256")) return false;
  return key != nullptr && verify_rsa_sha256(*key, body, signature);
}

bool SourceAuth::check_signature(std::string_view id, std::string_view timestamp, std::string_view signature,
                                 std::string_view body, std::int64_t now_ms) const {
  // The sender's number is bounded before any arithmetic: a later year is no timestamp, and with it the
  // difference below stays far inside 64 bits (now_ms and the tolerance are bounded by the clock and the config).
  unsigned long long seconds = 0;
  if (id.empty() || !util::parse_u64(util::trim(timestamp), kMaxTimestampSeconds, seconds)) return false;
  const auto skew = static_cast<std::int64_t>(seconds) * 1000 - now_ms;
  if (skew > tolerance_.count() || skew < -tolerance_.count()) return false;  // stale or from the future: a replay
  int matched = 0;
  for (const auto& secret : hmac_secrets_) {
    const auto expected = util::standard_webhooks::sign({secret}, id, static_cast<std::int64_t>(seconds), body);
    for (std::string_view rest = signature; !rest.empty();) {
      const auto space = rest.find(' ');
      const auto candidate = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
      if (candidate.size() == expected.size()) {
        matched |= CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0 ? 1 : 0;
      }
    }
  }
  return matched != 0;
}

bool SourceAuth::matches(std::string_view presented) const {
  const auto digest = sha256(presented);
  int equal = 0;
  // Every secret is compared, so the time taken does not tell which one (if any) matched.
  for (const auto& d : digests_) equal |= CRYPTO_memcmp(d.data(), digest.data(), d.size()) == 0 ? 1 : 0;
  return equal != 0;
}

bool SourceAuth::check(std::string_view query, std::string_view authorization) const {
  switch (type_) {
    case AuthType::None: return true;
    case AuthType::Hmac:  // the body's signature is checked once the body is read
    case AuthType::PartnerCenter: return true;
    case AuthType::QuerySecret: {
      std::string value;
      return find_query_param(query, param_, value) && matches(value);
    }
    case AuthType::Bearer: {
      constexpr std::string_view kScheme = "Bearer ";
      if (!util::istarts_with(authorization, kScheme)) return false;
      return matches(util::trim(authorization.substr(kScheme.size())));
    }
  }
  return false;
}

bool find_query_param(std::string_view query, std::string_view name, std::string& value) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (util::url_decode(pair.substr(0, eq)) == name) {
      value = eq == std::string_view::npos ? std::string{} : util::url_decode(pair.substr(eq + 1));
      return true;
    }
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return false;
}

}  // namespace leadrelay::intake
