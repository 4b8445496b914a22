#include "connectors/pc_referral/referrals_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "connectors/crm/crm_sink.hpp"
#include "daemon/log/log.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::connectors::pc_referral {
namespace {

http::ClientOptions client_options(const PartnerCenterConfig& c) {
  return {c.tls_verify, c.ca_file, c.connect_timeout, c.request_timeout};
}

std::string read_first_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return std::string(util::trim(line));
}

ApiResult judge(const http::Response& response) {
  ApiResult r;
  r.status = response.status;
  const auto s = response.status;
  if (s >= 200 && s < 300) {
    r.kind = ApiResult::Kind::Ok;
    r.body = response.body;
    return r;
  }
  r.message = crm::crm_message(response);
  r.retry_after = http::retry_after(response);
  if (s == 404) {
    r.kind = ApiResult::Kind::NotFound;
  } else if (s == 412) {
    r.kind = ApiResult::Kind::Stale;
  } else if (s == 401 || s == 408 || s == 425 || s == 429 || s >= 500) {
    r.kind = ApiResult::Kind::Retry;
  } else {
    r.kind = ApiResult::Kind::Permanent;
  }
  return r;
}

}  // namespace

bool write_secret_file(const std::filesystem::path& file, const std::string& token, std::string& error) {
  const auto temporary = file.string() + ".new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write " + temporary + ": " + std::strerror(errno);
    return false;
  }
  const auto text = token + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (ok) ok = ::rename(temporary.c_str(), file.c_str()) == 0;
  if (!ok) {
    error = "cannot replace " + file.string() + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  // The rename is durable once the folder is synced.
  const auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

TokenSource::TokenSource(const PartnerCenterConfig& config) : config_(config), client_(client_options(config)) {}

bool TokenSource::token(std::string& out, ApiResult& failure) {
  std::lock_guard lock(mutex_);
  if (access_token_.empty() || std::chrono::steady_clock::now() >= expires_) {
    if (!fetch(failure)) return false;
  }
  out = access_token_;
  return true;
}

void TokenSource::expired(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (token == access_token_) access_token_.clear();
}

bool TokenSource::fetch(ApiResult& failure) {
  http::Url url;
  std::string error;
  failure = {};
  failure.kind = ApiResult::Kind::Retry;
  if (!http::Url::parse(config_.token_url, url, error)) {
    failure.message = "token_url: " + error;
    return false;
  }
  const bool refresh = config_.grant == Grant::RefreshToken;
  if (refresh) {
    // The file is read each time a token is needed: an admin who wrote a new refresh token needs no restart.
    const auto on_disk = read_first_line(config_.refresh_token_file);
    if (!on_disk.empty()) refresh_token_ = on_disk;
    if (refresh_token_.empty()) {
      failure.message = "the refresh token file " + config_.refresh_token_file.string() + " is empty";
      log::error("partner_center_token_missing", {log::safe("file", config_.refresh_token_file.string()),
                                                  {"hint", "write a Referral Admin's refresh token to it (README: "
                                                           "\"Partner Center referrals\"); referrals wait until then"}});
      return false;
    }
  }
  http::Request request;
  request.target = url.target;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body = std::string("grant_type=") + (refresh ? "refresh_token" : "client_credentials") +
                 "&client_id=" + util::url_encode(config_.client_id) + "&resource=" + util::url_encode(config_.resource);
  if (refresh) request.body += "&refresh_token=" + util::url_encode(refresh_token_);
  if (!config_.client_secret.empty()) request.body += "&client_secret=" + util::url_encode(config_.client_secret);
  http::Response response;
  if (!client_.send(url, request, response, error)) {
    failure.message = "token endpoint: " + error;
    return false;
  }
  crm::TokenAnswer answer;
  DeliveryResult refused;
  if (!crm::read_token_answer(response, answer, refused)) {
    failure.message = refused.message;
    failure.retry_after = refused.retry_after;
    if (response.status == 400 || response.status == 401) {
      // invalid_grant: the refresh token was revoked, expired (90 days unused) or its user lost the role.
      log::error("partner_center_token_refused",
                 {{"message", refused.message},
                  {"hint", refresh ? "sign in again as a Referral Admin, write the new refresh token to " +
                                         config_.refresh_token_file.string() +
                                         " (README: \"Partner Center referrals\"); referrals wait and are fetched then"
                                   : "check partner_center.client_id and its secret; referrals wait"}});
    }
    return false;
  }
  access_token_ = std::move(answer.access_token);
  const auto lifetime = answer.lifetime;
  expires_ = answer.renew_at();
  if (refresh) {
    rapidjson::Document d;
    d.Parse(response.body.data(), response.body.size());
    if (d.IsObject() && d.HasMember("refresh_token") && d["refresh_token"].IsString() &&
        d["refresh_token"].GetStringLength() > 0 && refresh_token_ != d["refresh_token"].GetString()) {
      // Entra ID rotates refresh tokens: keep the new one, or the next start has a stale one.
      refresh_token_ = d["refresh_token"].GetString();
      if (!write_secret_file(config_.refresh_token_file, refresh_token_, error)) {
        log::error("partner_center_token_not_saved",
                   {{"message", error}, {"hint", "give leadrelay write access to the file (mode 0600)"}});
      }
    }
  }
  log::info("partner_center_token", {{"lifetime_s", static_cast<std::int64_t>(lifetime.count())}});
  return true;
}

ReferralsClient::ReferralsClient(const PartnerCenterConfig& config, std::shared_ptr<TokenSource> tokens)
    : config_(config), tokens_(std::move(tokens)), client_(client_options(config)) {}
ReferralsClient::~ReferralsClient() = default;

ApiResult ReferralsClient::send(const std::string& target_url, http::Request request) {
  http::Url url;
  std::string error;
  ApiResult failure;
  if (!http::Url::parse(target_url, url, error)) {
    failure.kind = ApiResult::Kind::Permanent;
    failure.message = error;
    return failure;
  }
  request.target = url.target;
  request.headers.emplace_back("Accept", "application/json");
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string bearer;
    if (!tokens_->token(bearer, failure)) return failure;
    auto sent = request;
    sent.headers.emplace_back("Authorization", "Bearer " + bearer);
    http::Response response;
    if (!client_.send(url, sent, response, error)) {
      failure = {};
      failure.kind = ApiResult::Kind::Retry;
      failure.message = error;
      return failure;
    }
    if (response.status != 401) return judge(response);
    tokens_->expired(bearer);  // expired or revoked: one new token, one more try
    failure = judge(response);
  }
  failure.message += " (twice, with a fresh token: does the user still have the Referral Admin role?)";
  return failure;
}

ApiResult ReferralsClient::get(std::string_view referral_id) {
  http::Request request;
  request.method = "GET";
  return send(config_.api_url + "/" + util::url_encode(referral_id), std::move(request));
}

std::string first_page_url(const std::string& api_url, std::int64_t since_ms, int page_size) {
  auto since = log::format_utc_ms(since_ms);  // 2026-11-01T00:00:00.000Z
  return api_url + "?$filter=" + util::url_encode("updatedDateTime gt " + since) +
         "&$orderby=updatedDateTime&$top=" + std::to_string(page_size);
}

ApiResult ReferralsClient::list(std::int64_t since_ms, const std::string& page_url, std::string& next_link) {
  http::Request request;
  request.method = "GET";
  next_link.clear();
  auto result = send(page_url.empty() ? first_page_url(config_.api_url, since_ms, config_.page_size) : page_url,
                     std::move(request));
  if (result.kind != ApiResult::Kind::Ok) return result;
  rapidjson::Document d;
  d.Parse(result.body.data(), result.body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("value") || !d["value"].IsArray()) {
    result.kind = ApiResult::Kind::Retry;
    result.message = "the referral list is not an OData collection ({\"value\": [...]})";
    return result;
  }
  if (const auto it = d.FindMember("@odata.nextLink"); it != d.MemberEnd() && it->value.IsString()) {
    next_link = it->value.GetString();
    // A link elsewhere would carry the token off: follow only links to the configured API.
    http::Url api, next;
    std::string error;
    if (!http::Url::parse(config_.api_url, api, error) || !http::Url::parse(next_link, next, error) ||
        api.host != next.host || api.port != next.port || api.tls != next.tls) {
      result.kind = ApiResult::Kind::Retry;
      result.message = "@odata.nextLink points away from partner_center.api_url: " + next_link.substr(0, 200);
      next_link.clear();
    }
  }
  return result;
}

ApiResult ReferralsClient::patch(std::string_view referral_id, std::string_view etag, std::string_view json_patch) {
  http::Request request;
  request.method = "PATCH";
  request.headers = {{"Content-Type", "application/json-patch+json"}, {"If-Match", std::string(etag)}};
  request.body = std::string(json_patch);
  return send(config_.api_url + "/" + util::url_encode(referral_id), std::move(request));
}

}  // namespace leadrelay::connectors::pc_referral
