#pragma once
// Partner Center webhook signatures: RSA-SHA256 over the raw body, made with the key of the certificate that the
// request names in X-MS-Certificate-Url. This class decides which certificate URLs may be fetched at all (https,
// a host on the source's allow-list: no server-side request forgery), judges a downloaded certificate (its chain
// ends at a trusted root, its subject and issuer are the expected ones, it is valid now) and remembers the verdict
// per URL. It does no I/O itself: the HTTP layer downloads, this judges. Thread-safe.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/http/url.hpp"

namespace leadrelay::intake {

// An accepted certificate's public key.
class SigningKey;

struct CertificateRules {
  std::vector<std::string> hosts;  // "host" (port 443) or "host:port", compared case-insensitively
  std::string subject;             // the certificate's CN equals it or ends with "." + it
  std::string issuer;              // the issuer's O or CN contains it
  std::filesystem::path ca_file;   // trusted besides the system's roots (also for the download's TLS)
  std::chrono::milliseconds cache_for{86400000};
};

class SigningCertificates {
 public:
  enum class Verdict { Accepted, Refused, Unreachable, Unknown };

  explicit SigningCertificates(CertificateRules rules);
  ~SigningCertificates();
  SigningCertificates(const SigningCertificates&) = delete;
  SigningCertificates& operator=(const SigningCertificates&) = delete;

  const CertificateRules& rules() const { return rules_; }

  // True when `url` may be fetched: https, no user info, a host (and port) on the allow-list.
  bool allowed(std::string_view url, connectors::http::Url& parsed, std::string& reason) const;

  // What is known of the certificate at `url` (Unknown: download it, then call learn; Unreachable: a download
  // failed moments ago, answer 503 without trying again).
  Verdict find(const std::string& url, std::int64_t now_ms, std::shared_ptr<const SigningKey>& key,
               std::string& reason) const;
  // Judges a downloaded certificate (PEM or DER) and remembers the verdict for `url`.
  Verdict learn(const std::string& url, std::string_view certificate, std::int64_t now_ms,
                std::shared_ptr<const SigningKey>& key, std::string& reason);
  // Remembers for a few seconds that `url` could not be downloaded, so a flood cannot turn into a fetch storm.
  void unreachable(const std::string& url, std::int64_t now_ms, const std::string& reason);

 private:
  struct Entry {
    Verdict verdict;
    std::shared_ptr<const SigningKey> key;
    std::string reason;
    std::int64_t expires_ms;
  };
  Verdict judge(std::string_view certificate, std::int64_t now_ms, std::shared_ptr<const SigningKey>& key,
                std::int64_t& not_after_ms, std::string& reason) const;
  void remember(const std::string& url, Entry entry, std::int64_t now_ms);

  CertificateRules rules_;
  struct Store;
  std::unique_ptr<Store> store_;  // the trusted roots
  mutable std::mutex mutex_;
  std::map<std::string, Entry> cache_;
};

// The signature a request carries: "Authorization: Signature <base64>", else the x-ms-signature header.
std::string_view presented_signature(std::string_view authorization, std::string_view x_ms_signature);

// True when `signature_base64` is `key`'s RSA PKCS#1 v1.5 signature of SHA-256(body).
bool verify_rsa_sha256(const SigningKey& key, std::string_view body, std::string_view signature_base64);

}  // namespace leadrelay::intake
