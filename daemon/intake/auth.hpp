#pragma once
// Checks a request's credentials against a source's secrets in constant time.
#include <array>
#include <memory>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/intake/source_config.hpp"

namespace leadrelay::intake {

// The latest webhook-timestamp read as one (9999-12-31T23:59:59Z); larger numbers are refused unread.
inline constexpr unsigned long long kMaxTimestampSeconds = 253402300799ULL;

class SourceAuth {
 public:
  explicit SourceAuth(const AuthConfig& config);

  // `query` is the part of the target after '?', `authorization` the Authorization header (may be empty).
  // Never says which part was wrong: the caller answers a plain 401.
  bool check(std::string_view query, std::string_view authorization) const;
  // Hmac sources: the body's signature (Standard Webhooks: "v1,<base64 HMAC-SHA256 of id.timestamp.body>", several
  // separated by spaces), with the timestamp (unix seconds) within the tolerance of `now_ms`. Constant time.
  bool check_signature(std::string_view id, std::string_view timestamp, std::string_view signature,
                       std::string_view body, std::int64_t now_ms) const;
  // Partner Center sources: `signature` (base64) is the RSA-SHA256 signature of the body by `key`, the key of the
  // certificate the request named (null when none was accepted); `algorithm` is X-MS-Signature-Algorithm.
  bool check_rsa_signature(const SigningKey* key, std::string_view algorithm, std::string_view signature,
                           std::string_view body) const;
  AuthType type() const { return type_; }
  // Partner Center sources: the certificates their signatures are checked with; null for other types.
  SigningCertificates* certificates() const { return certificates_.get(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  // Compares SHA-256 digests, so neither the secrets' lengths nor their bytes leak through timing.
  bool matches(std::string_view presented) const;

  AuthType type_;
  std::string param_;
  std::vector<Digest> digests_;
  std::vector<std::string> hmac_secrets_;  // Hmac only: the keys themselves are needed to sign
  std::chrono::milliseconds tolerance_;
  std::shared_ptr<SigningCertificates> certificates_;
};

// The value of `name` in a query string ("a=1&code=x"), URL-decoded; false when absent.
bool find_query_param(std::string_view query, std::string_view name, std::string& value);

}  // namespace leadrelay::intake
