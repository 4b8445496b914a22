#include "connectors/pc_referral/pc_config.hpp"

namespace leadrelay::connectors::pc_referral {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr std::int64_t kDayMs = 86400000;
constexpr KeySpec kKeys[] = {
    {"api_url", KeyType::String, "https://api.partner.microsoft.com/v1.0/engagements/referrals",
     "the Referrals API's referrals collection"},
    {"tenant", KeyType::String, "", "your Entra ID tenant (id or domain), for the default token_url"},
    {"token_url", KeyType::String, "",
     "Entra ID token endpoint; default https://login.microsoftonline.com/<tenant>/oauth2/token"},
    {"resource", KeyType::String, "https://api.partner.microsoft.com", "the token's resource (audience)"},
    {"client_id", KeyType::String, "", "the Entra ID application (client) id the refresh token was issued to", true},
    {"client_secret_file", KeyType::String, "", "file holding the application's secret (confidential clients)"},
    {"client_secret_env", KeyType::String, "", "environment variable holding the application's secret"},
    {"grant", KeyType::Enum, "refresh_token",
     "refresh_token (a Referral Admin's delegated token, the documented way) or client_credentials (app-only, where "
     "the tenant allows it)", false, 0, 0, "refresh_token|client_credentials"},
    {"refresh_token_file", KeyType::String, "",
     "file holding the refresh token (first line); rotated tokens are written back to it, mode 0600"},
    {"poll_interval", KeyType::Duration, "5m",
     "list referrals updated since the last poll this often (the backstop for events Partner Center gave up on); 0 "
     "turns the poll off", false, 0, kDayMs},
    {"first_poll_lookback", KeyType::Duration, "14d", "the first poll reaches back this far", false, 0, 3650 * kDayMs},
    {"page_size", KeyType::Integer, "100", "referrals per page of a poll ($top)", false, 1, 100},
    {"write_back", KeyType::Boolean, "true",
     "write accept, decline, win, lose and deal changes made in leadrelay back to the referral"},
    {"initial_backoff", KeyType::Duration, "1s", "first pause after a failed fetch or write-back; doubles each time",
     false, 10, 3600000},
    {"max_backoff", KeyType::Duration, "5m", "longest pause between retries", false, 100, kDayMs},
    {"breaker_failures", KeyType::Integer, "5", "consecutive failed write-backs that open the circuit breaker", false,
     1, 1000},
    {"breaker_cooldown", KeyType::Duration, "30s", "how long an open circuit waits before one trial write-back",
     false, 100, 3600000},
    {"ca_file", KeyType::String, "", "PEM file of CA certificates to trust besides the system's"},
    {"tls_verify", KeyType::Boolean, "true", "verify the server's certificate and name (turn off only for tests)"},
    {"connect_timeout", KeyType::Duration, "5s", "deadline to connect (and finish the TLS handshake)", false, 100,
     600000},
    {"request_timeout", KeyType::Duration, "30s", "deadline for one request and its answer", false, 100, 600000},
};

std::filesystem::path resolve(const std::string& path, const std::filesystem::path& base_dir) {
  const std::filesystem::path p(path);
  return p.is_relative() ? base_dir / p : p;
}

bool http_url(const std::string& url) { return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0; }

}  // namespace

std::span<const KeySpec> partner_center_keys() { return kKeys; }

PartnerCenterConfig parse_partner_center_config(config::MapReader& r, const std::filesystem::path& base_dir) {
  PartnerCenterConfig c;
  c.configured = true;
  {
    YAML::Emitter out;
    out << r.node();
    c.fingerprint = out.c_str();
  }
  c.api_url = r.string("api_url");
  while (!c.api_url.empty() && c.api_url.back() == '/') c.api_url.pop_back();
  if (!http_url(c.api_url)) r.error("api_url", "expected an https:// URL");
  c.resource = r.string("resource");
  c.client_id = r.string("client_id");
  c.token_url = r.string("token_url");
  const auto tenant = r.string("tenant");
  if (c.token_url.empty()) {
    if (tenant.empty()) r.error("tenant", "needs 'tenant' (or 'token_url') to get tokens from Entra ID");
    c.token_url = "https://login.microsoftonline.com/" + tenant + "/oauth2/token";
  } else if (!http_url(c.token_url)) {
    r.error("token_url", "expected an https:// URL");
  }
  c.grant = r.enumeration("grant") == "client_credentials" ? Grant::ClientCredentials : Grant::RefreshToken;
  const auto secret_file = r.string("client_secret_file");
  const auto secret_env = r.string("client_secret_env");
  if (!secret_file.empty() && !secret_env.empty()) {
    r.error("client_secret_env", "give client_secret_file or client_secret_env, not both");
  } else if (!secret_file.empty() || !secret_env.empty()) {
    std::vector<std::string> values;
    std::string error;
    if (!read_secrets(secret_file, secret_env, base_dir, values, error)) {
      r.error(secret_file.empty() ? "client_secret_env" : "client_secret_file", error);
    } else {
      c.client_secret = values.front();
    }
  }
  const auto refresh = r.string("refresh_token_file");
  if (c.grant == Grant::RefreshToken) {
    if (refresh.empty()) {
      r.error("refresh_token_file", "grant refresh_token needs the file holding a Referral Admin's refresh token "
                                    "(README: \"Partner Center referrals\")");
    } else {
      c.refresh_token_file = resolve(refresh, base_dir);
      if (!std::filesystem::exists(c.refresh_token_file)) {
        r.error("refresh_token_file", "no such file: " + c.refresh_token_file.string());
      }
    }
  } else if (c.client_secret.empty()) {
    r.error("grant", "client_credentials needs client_secret_file or client_secret_env");
  }
  c.poll_interval = r.duration("poll_interval");
  c.first_poll_lookback = r.duration("first_poll_lookback");
  c.page_size = static_cast<int>(r.integer("page_size"));
  c.write_back = r.boolean("write_back");
  c.retry.initial_backoff = r.duration("initial_backoff");
  c.retry.max_backoff = r.duration("max_backoff");
  c.retry.breaker_failures = static_cast<int>(r.integer("breaker_failures"));
  c.retry.breaker_cooldown = r.duration("breaker_cooldown");
  const auto ca = r.string("ca_file");
  if (!ca.empty()) {
    c.ca_file = resolve(ca, base_dir);
    if (!std::filesystem::exists(c.ca_file)) r.error("ca_file", "no such file: " + c.ca_file.string());
  }
  c.tls_verify = r.boolean("tls_verify");
  c.connect_timeout = r.duration("connect_timeout");
  c.request_timeout = r.duration("request_timeout");
  return c;
}

}  // namespace leadrelay::connectors::pc_referral
