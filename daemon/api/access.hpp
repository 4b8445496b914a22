#pragma once
// Who may use the admin listener: bearer tokens from admin.tokens, each with a role. viewer reads leads, exports
// and insights; referrals_admin also changes leads; operator reads status and dead letters and replays them.
// Tokens are compared by their SHA-256, in constant time, against every configured token.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/http/admin_server.hpp"

namespace leadrelay::api {

enum class Role { Viewer, ReferralsAdmin, Operator };

struct Caller {
  std::string name;  // the token's name: the actor of changes, in logs and events
  Role role = Role::Viewer;
};

class Access {
 public:
  explicit Access(const std::vector<http::AdminToken>& tokens);
  // The caller presenting `authorization` ("Bearer <token>") when it may act as `needed`; else the 401 or 403
  // answer in `refusal`.
  std::optional<Caller> authorize(std::string_view authorization, Role needed, http::AdminResponse& refusal) const;

 private:
  struct Entry {
    std::string name;
    Role role;
    std::string digest;
  };
  std::vector<Entry> tokens_;
};

std::string_view to_string(Role role);

}  // namespace leadrelay::api
