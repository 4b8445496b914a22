#pragma once
// Intake decides what to do with a request, in two steps so that a request can be refused before its
// body is read: on_head (path, method, credentials, content type) and on_body (parse and map the lead).
// Pure: it knows nothing of sockets or Beast, so tests and fuzzers drive it directly.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/pointer.h>

#include "connectors/source_formats.hpp"
#include "daemon/intake/auth.hpp"
#include "daemon/intake/rate_limit.hpp"
#include "daemon/intake/rejection.hpp"
#include "daemon/intake/source_config.hpp"
#include "daemon/model/lead.hpp"

namespace leadrelay::intake {

struct RequestHead {
  std::string_view method;
  std::string_view target;  // path and query, as received
  std::string_view content_type;
  std::string_view authorization;
};

struct Source {
  SourceConfig config;
  SourceAuth auth;
  const connectors::SourceFormat* format;
  rapidjson::Pointer idempotency_pointer;  // parsed once from config.idempotency_json_pointer; empty when unset
  std::unique_ptr<RateLimiter> limiter;     // null: no rate limit (a reload starts it afresh)
};

enum class Route { Healthz, Readyz, Lead, Reject };

struct SignatureHeaders {
  std::string_view id = {};         // hmac: webhook-id
  std::string_view timestamp = {};  // hmac: webhook-timestamp
  std::string_view signature = {};  // hmac: webhook-signature; partner_center: the base64 RSA signature
  std::string_view algorithm = {};  // partner_center: X-MS-Signature-Algorithm
  const SigningKey* key = nullptr;  // partner_center: the accepted certificate's key, null when none was
};

struct HeadDecision {
  Route route = Route::Reject;
  const Source* source = nullptr;  // Route::Lead
  Rejection rejection;             // Route::Reject
  std::string allow;               // the Allow header of a 405
};

class Intake {
 public:
  explicit Intake(const std::vector<SourceConfig>& sources);

  HeadDecision on_head(const RequestHead& head) const;

  // Parses and maps an authenticated body, then stamps the lead's id and time. `replay_key` receives the key
  // that recognises a redelivery of this same delivery (empty when the source turned detection off);
  // `idempotency_header` is the value of the source's idempotency header, when it names one.
  // `signature` carries the signature headers, checked for hmac and partner_center sources.
  bool on_body(const Source& source, std::string_view body, std::int64_t now_ms, model::Lead& lead,
               std::string& replay_key, Rejection& error, std::string_view idempotency_header = {},
               const SignatureHeaders& signature = {}) const;

  const std::vector<std::unique_ptr<Source>>& sources() const { return sources_; }

 private:
  std::vector<std::unique_ptr<Source>> sources_;
};

// True for "application/json", with or without parameters, and with a UTF-8 charset if one is named.
bool is_json_content_type(std::string_view content_type);

// Maps a journaled body again, exactly as on_body mapped it when the lead was accepted (the journal keeps the raw
// body, not the mapped lead, so that intake writes half as much): the pipeline's first step. `format` is the
// source's format at acceptance; the identity fields come from the journal row.
bool map_journaled(std::string_view format, std::string_view raw, std::string_view lead_id, std::string_view source,
                   std::int64_t received_at_ms, model::Lead& lead, std::string& error);

// The 202 body: {"lead_id": "...", "status": "accepted"}.
std::string accepted_body(std::string_view lead_id);
// The 200 body for a redelivery: {"lead_id": "<the first lead's>", "status": "duplicate", "duplicate": true}.
std::string duplicate_body(std::string_view lead_id);

}  // namespace leadrelay::intake
