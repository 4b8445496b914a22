#pragma once
// The web console on the admin listener: /console/leads (the leads workspace) and /console/insights (lead
// insights), their files built into the binary, and sign-in. An admin signs in with an admin token; the console
// keeps it in memory under a random session id, sent back as an HttpOnly, SameSite=Strict cookie (Secure when the
// listener has TLS). The pages call the same API as everyone else: a request to /api/v1 with the cookie and no
// Authorization header acts with the session's token (so its role, and a token removed by a reload, count at once),
// and a change needs the session's CSRF token in X-CSRF-Token. Sessions end after 12 hours, at sign-out, and when
// the daemon restarts. Every answer has a Content-Security-Policy of default-src 'self'.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/api/access.hpp"
#include "daemon/http/admin_server.hpp"

namespace leadrelay::console {

inline constexpr std::string_view kCookie = "leadrelay_session";

class Console {
 public:
  explicit Console(bool secure_cookies);

  static bool handles(std::string_view path) { return path == "/console" || path.rfind("/console/", 0) == 0; }
  http::AdminResponse handle(const http::AdminRequest& request, const api::Access& access);

  // Whether an /api/v1 request comes from the console: the session cookie and no Authorization header.
  static bool by_session(const http::AdminRequest& request);
  // For such a request, the session's token goes into `request.authorization` (a change also needs the CSRF
  // token). False with the refusal in `refusal`.
  bool authorize_api(http::AdminRequest& request, http::AdminResponse& refusal);

 private:
  struct Session {
    std::string token;  // the admin token signed in with (memory only)
    std::string csrf;
    std::string name;   // the token's name
    api::Role role = api::Role::Viewer;
    std::int64_t expires_ms = 0;
  };
  std::optional<Session> session_of(const http::AdminRequest& request);
  http::AdminResponse sign_in(const http::AdminRequest& request, const api::Access& access);
  http::AdminResponse sign_out(const http::AdminRequest& request);
  http::AdminResponse page(std::string_view name, const http::AdminRequest& request);

  bool secure_;
  std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;
};

}  // namespace leadrelay::console
