#pragma once
// The `partner_center:` section: where the Referrals API lives, how leadrelay gets its token (a user's refresh
// token in a secret file, rotated in place; or client credentials where the tenant allows app-only access), the
// backstop poll, and the retries of fetches and write-backs. Needed by every source of format pc-referral.
#include <chrono>
#include <filesystem>
#include <span>
#include <string>

#include "connectors/sinks/sink_config.hpp"
#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors::pc_referral {

enum class Grant { RefreshToken, ClientCredentials };

struct PartnerCenterConfig {
  bool configured = false;
  std::string api_url = "https://api.partner.microsoft.com/v1.0/engagements/referrals";
  std::string token_url;  // default https://login.microsoftonline.com/<tenant>/oauth2/token (Entra ID v1)
  std::string resource = "https://api.partner.microsoft.com";
  std::string client_id;
  std::string client_secret;  // optional with a refresh token (public clients have none)
  Grant grant = Grant::RefreshToken;
  std::filesystem::path refresh_token_file;  // rotated refresh tokens are written back here (mode 0600)
  std::chrono::milliseconds poll_interval{std::chrono::minutes(5)};  // 0: no poll
  std::chrono::milliseconds first_poll_lookback{std::chrono::hours(24 * 14)};
  int page_size = 100;
  bool write_back = true;
  RetryPolicy retry;
  std::filesystem::path ca_file;
  bool tls_verify = true;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};
  std::string fingerprint;  // the YAML as written: a change needs a restart
  bool operator==(const PartnerCenterConfig& o) const { return fingerprint == o.fingerprint; }
};

std::span<const config::KeySpec> partner_center_keys();
PartnerCenterConfig parse_partner_center_config(config::MapReader& r, const std::filesystem::path& base_dir);

}  // namespace leadrelay::connectors::pc_referral
