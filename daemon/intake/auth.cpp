#include "daemon/intake/auth.hpp"

#include <openssl/crypto.h>

#include "daemon/util/digest.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::intake {
using util::sha256;

SourceAuth::SourceAuth(const AuthConfig& config) : type_(config.type), param_(config.param) {
  for (const auto& s : config.secrets) digests_.push_back(sha256(s));
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
