#include "daemon/console/console.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "daemon/api/responses.hpp"
#include "daemon/console/assets.hpp"
#include "daemon/log/log.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::console {
namespace {
using http::AdminRequest;
using http::AdminResponse;

constexpr std::int64_t kSessionMs = 12LL * 3600 * 1000;
constexpr std::size_t kMaxSessions = 1000;
constexpr const char* kPolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'";

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) return {};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The value of cookie `name` in a Cookie header, or empty.
std::string cookie_value(std::string_view header, std::string_view name) {
  for (std::string_view rest = header; !rest.empty();) {
    const auto semi = rest.find(';');
    auto part = util::trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
  }
  return {};
}

AdminResponse with_policy(AdminResponse r) {
  r.headers.emplace_back("Content-Security-Policy", kPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  return r;
}

AdminResponse redirect(std::string location) {
  AdminResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", std::move(location));
  return with_policy(std::move(r));
}

// Where to go after signing in: a console page only (never another site).
std::string safe_next(std::string_view next) {
  if (next.rfind("/console/", 0) != 0 || next.find("//") != std::string_view::npos ||
      next.find('\\') != std::string_view::npos || next.find_first_of("\r\n") != std::string_view::npos) {
    return "/console/insights";
  }
  return std::string(next);
}

const Asset* find_asset(std::string_view key) {
  for (const auto& a : assets()) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

AdminResponse serve(const Asset& a, const AdminRequest& req, int status = 200) {
  AdminResponse r;
  r.status = status;
  r.content_type = std::string(a.content_type);
  if (req.accept_encoding.find("gzip") != std::string::npos) {
    r.body = std::string(a.gzipped);
    r.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    r.body = std::string(a.body);
  }
  r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("Cache-Control", a.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return with_policy(std::move(r));
}
}  // namespace

Console::Console(bool secure_cookies) : secure_(secure_cookies) {}

std::optional<Console::Session> Console::session_of(const AdminRequest& req) {
  const auto id = cookie_value(req.cookie, kCookie);
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_ms <= log::now_unix_ms()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

bool Console::by_session(const AdminRequest& req) {
  return req.authorization.empty() && !cookie_value(req.cookie, kCookie).empty();
}

bool Console::authorize_api(AdminRequest& req, AdminResponse& refusal) {
  const auto s = session_of(req);
  if (!s) {
    refusal = api::error(401, "unauthorized", "the console session has ended; sign in again at /console/login");
    return false;
  }
  if (req.method != "GET" && !same(req.csrf_token, s->csrf)) {
    refusal = api::error(403, "csrf", "a change from the console needs the session's X-CSRF-Token header");
    return false;
  }
  req.authorization = "Bearer " + s->token;
  return true;
}

AdminResponse Console::sign_in(const AdminRequest& req, const api::Access& access) {
  std::string token, next;
  for (const auto& [k, v] : util::query_params(req.body)) {
    if (k == "token") token = std::string(util::trim(v));
    if (k == "next") next = v;
  }
  AdminResponse refusal;
  const auto caller = access.authorize("Bearer " + token, api::Role::Viewer, refusal);
  if (!caller) {
    log::warn("console_sign_in_refused", {{"status", static_cast<std::int64_t>(refusal.status)}});
    return redirect("/console/login?failed=" + std::to_string(refusal.status) +
                    "&next=" + util::url_encode(safe_next(next)));
  }
  Session s{token, random_hex(32), caller->name, caller->role, log::now_unix_ms() + kSessionMs};
  const auto id = random_hex(32);
  if (id.empty() || s.csrf.empty()) return api::error(503, "unavailable", "no random bytes for a session");
  {
    std::lock_guard lock(mutex_);
    if (sessions_.size() >= kMaxSessions) {
      // The one that ends soonest makes room.
      const auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
        return a.second.expires_ms < b.second.expires_ms;
      });
      sessions_.erase(oldest);
    }
    sessions_[id] = s;
  }
  log::info("console_signed_in", {log::safe("token", caller->name)});
  auto r = redirect(safe_next(next));
  r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=" + id + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                           std::to_string(kSessionMs / 1000) + (secure_ ? "; Secure" : ""));
  return r;
}

AdminResponse Console::sign_out(const AdminRequest& req) {
  // The CSRF token comes as X-CSRF-Token or, from a form, as csrf=<token> in the body.
  const auto s = session_of(req);
  bool vouched = s && same(req.csrf_token, s->csrf);
  for (const auto& [k, v] : util::query_params(req.body)) vouched = vouched || (s && k == "csrf" && same(v, s->csrf));
  if (s && !vouched) return with_policy(api::error(403, "csrf", "sign-out needs the session's CSRF token"));
  {
    std::lock_guard lock(mutex_);
    sessions_.erase(cookie_value(req.cookie, kCookie));
  }
  auto r = redirect("/console/login");
  r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                           (secure_ ? "; Secure" : ""));
  return r;
}

AdminResponse Console::page(std::string_view name, const AdminRequest& req) {
  const auto* a = find_asset("page:" + std::string(name));
  if (a == nullptr) return with_policy(api::error(404, "not_found", "no such console page"));
  return serve(*a, req);
}

AdminResponse Console::handle(const AdminRequest& req, const api::Access& access) {
  const std::string_view path = req.path;
  if (path.rfind("/console/assets/", 0) == 0) {
    if (req.method != "GET") return api::method_not_allowed("GET");
    const auto* a = find_asset(path);
    if (a == nullptr || !a->immutable) return with_policy(api::error(404, "not_found", "no such console file"));
    return serve(*a, req);
  }
  if (path == "/console/login") {
    if (req.method == "POST") return sign_in(req, access);
    if (req.method != "GET") return api::method_not_allowed("GET, POST");
    return page("login", req);
  }
  if (path == "/console/logout") return req.method == "POST" ? sign_out(req) : api::method_not_allowed("POST");
  auto session = session_of(req);
  if (session) {
    // A token removed (or given another role) by a reload ends its sessions here too, not only in the API.
    AdminResponse refusal;
    if (const auto caller = access.authorize("Bearer " + session->token, api::Role::Viewer, refusal)) {
      session->name = caller->name;
      session->role = caller->role;
    } else {
      std::lock_guard lock(mutex_);
      sessions_.erase(cookie_value(req.cookie, kCookie));
      session.reset();
    }
  }
  if (path == "/console/session") {
    if (!session) return with_policy(api::error(401, "unauthorized", "sign in at /console/login"));
    return with_policy(api::json(200, R"({"name":)" + util::json_quote(session->name) + R"(,"role":)" +
                                          util::json_quote(api::to_string(session->role)) + R"(,"csrf":)" +
                                          util::json_quote(session->csrf) + "}"));
  }
  if (req.method != "GET") return api::method_not_allowed("GET");
  const bool leads = path == "/console/leads" || path.rfind("/console/leads/", 0) == 0;
  const bool insights = path == "/console/insights";
  if (!leads && !insights && path != "/console" && path != "/console/") {
    return with_policy(api::error(404, "not_found", "the console has /console/leads and /console/insights"));
  }
  if (!session) {
    std::string target(path);
    if (!req.query.empty()) target += "?" + req.query;
    return redirect("/console/login?next=" + util::url_encode(safe_next(target)));
  }
  if (!leads && !insights) return redirect("/console/insights");
  return page(leads ? "leads" : "insights", req);
}

}  // namespace leadrelay::console
