#include "daemon/api/access.hpp"

#include <openssl/crypto.h>

#include "daemon/api/responses.hpp"
#include "daemon/util/digest.hpp"

namespace leadrelay::api {
namespace {

Role role_of(std::string_view name) {
  return name == "operator" ? Role::Operator : name == "referrals_admin" ? Role::ReferralsAdmin : Role::Viewer;
}

// referrals_admin can do what a viewer can; operator is a role of its own.
bool may(Role have, Role needed) {
  return have == needed || (needed == Role::Viewer && have == Role::ReferralsAdmin);
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::Viewer: return "viewer";
    case Role::ReferralsAdmin: return "referrals_admin";
    case Role::Operator: return "operator";
  }
  return "viewer";
}

Access::Access(const std::vector<http::AdminToken>& tokens) {
  for (const auto& t : tokens) tokens_.push_back({t.name, role_of(t.role), t.digest});
}

std::optional<Caller> Access::authorize(std::string_view authorization, Role needed,
                                        http::AdminResponse& refusal) const {
  constexpr std::string_view kScheme = "Bearer ";
  const bool bearer = authorization.size() > kScheme.size() &&
                      authorization.substr(0, kScheme.size()) == kScheme;
  const Entry* found = nullptr;
  if (bearer) {
    const auto digest = util::sha256(authorization.substr(kScheme.size()));
    // Every token is compared, so the time taken does not tell which one (if any) matched.
    for (const auto& t : tokens_) {
      if (CRYPTO_memcmp(t.digest.data(), digest.data(), digest.size()) == 0) found = &t;
    }
  }
  if (found == nullptr) {
    refusal = error(401, "unauthorized",
                    tokens_.empty() ? "no admin.tokens are configured; add one with the role this needs"
                    : bearer        ? "the token is not one of admin.tokens"
                                    : "send Authorization: Bearer <token>");
    refusal.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="leadrelay")");
    return std::nullopt;
  }
  if (!may(found->role, needed)) {
    refusal = error(403, "forbidden",
                    "the token '" + found->name + "' has the role " + std::string(to_string(found->role)) +
                        "; this needs " + std::string(to_string(needed)));
    return std::nullopt;
  }
  return Caller{found->name, found->role};
}

}  // namespace leadrelay::api
