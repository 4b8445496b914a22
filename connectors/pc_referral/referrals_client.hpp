#pragma once
// The Referrals API as leadrelay calls it (LIFECYCLE.md §3): GET a referral, list those updated since a time
// (OData $filter/$orderby/$top, paged by @odata.nextLink), PATCH one with a JSON Patch and If-Match. Tokens come
// from one TokenSource shared by the fetches and the write-backs: a Referral Admin's refresh token (rotated tokens
// written back to its file atomically, mode 0600) or client credentials, cached until they expire and renewed once
// on a 401. Blocking; each caller has its own client (connection), the token is shared.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "connectors/http/http_client.hpp"
#include "connectors/pc_referral/pc_config.hpp"

namespace leadrelay::connectors::pc_referral {

struct ApiResult {
  enum class Kind {
    Ok,         // 2xx: `body` holds the answer (empty for a 204)
    NotFound,   // 404: no such referral
    Stale,      // 412: the If-Match eTag is old
    Retry,      // transport failure, 401 twice, 408/425/429/5xx, a refused token: try again later
    Permanent,  // any other 4xx: Partner Center refuses it for good
  };
  Kind kind = Kind::Retry;
  int status = 0;
  std::string body;
  std::chrono::milliseconds retry_after{0};
  std::string message;  // what went wrong, in Partner Center's words where it gave some
};

class TokenSource {
 public:
  explicit TokenSource(const PartnerCenterConfig& config);
  // A bearer token, from the cache or the token endpoint; false with a Retry result (leads wait).
  bool token(std::string& out, ApiResult& failure);
  // The API answered 401 with `token`: forget it (once per token, however many callers saw it).
  void expired(const std::string& token);

 private:
  bool fetch(ApiResult& failure);  // with mutex_ held

  const PartnerCenterConfig config_;
  std::mutex mutex_;
  http::Client client_;
  std::string access_token_;
  std::chrono::steady_clock::time_point expires_{};
  std::string refresh_token_;  // the latest, as read from or written to the file
};

class ReferralsClient {
 public:
  ReferralsClient(const PartnerCenterConfig& config, std::shared_ptr<TokenSource> tokens);
  ~ReferralsClient();

  ApiResult get(std::string_view referral_id);
  // The first page of referrals updated after `since_ms`, oldest first; `next_link` then names the next page
  // (@odata.nextLink, empty on the last page): pass it back as `page_url`.
  ApiResult list(std::int64_t since_ms, const std::string& page_url, std::string& next_link);
  ApiResult patch(std::string_view referral_id, std::string_view etag, std::string_view json_patch);

 private:
  ApiResult send(const std::string& url, http::Request request);

  const PartnerCenterConfig config_;
  std::shared_ptr<TokenSource> tokens_;
  http::Client client_;
};

// The list URL of the first page: <api_url>?$filter=updatedDateTime gt <ISO time>&$orderby=updatedDateTime&$top=N.
std::string first_page_url(const std::string& api_url, std::int64_t since_ms, int page_size);

// Writes `token` to `file` atomically (a temporary file beside it, mode 0600, synced, renamed over it); false with
// a message.
bool write_secret_file(const std::filesystem::path& file, const std::string& token, std::string& error);

}  // namespace leadrelay::connectors::pc_referral
