#include "daemon/intake/signing_certificates.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <ctime>

#include "daemon/util/digest.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::intake {
namespace {

constexpr std::size_t kMaxCertificateBytes = 64 * 1024;
constexpr std::size_t kMaxCachedUrls = 64;
constexpr std::int64_t kRefusedForMs = 5 * 60 * 1000;  // a refused certificate is not judged again for a while
constexpr std::int64_t kUnreachableForMs = 5 * 1000;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The UTF-8 text of the first `nid` entry of `name`, empty when absent.
std::string name_entry(const X509_NAME* name, int nid) {
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// Every certificate in `bytes`: a PEM bundle (the first is the signer, the rest its intermediates) or one DER.
std::vector<X509Ptr> read_certificates(std::string_view bytes) {
  std::vector<X509Ptr> out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())),
                                                &BIO_free);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  if (out.empty()) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))) out.emplace_back(x);
  }
  return out;
}

}  // namespace

class SigningKey {
 public:
  explicit SigningKey(EVP_PKEY* key) : key_(key) {}
  ~SigningKey() { EVP_PKEY_free(key_); }
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  EVP_PKEY* get() const { return key_; }

 private:
  EVP_PKEY* key_;
};

struct SigningCertificates::Store {
  X509_STORE* roots = X509_STORE_new();
  ~Store() { X509_STORE_free(roots); }
};

SigningCertificates::SigningCertificates(CertificateRules rules)
    : rules_(std::move(rules)), store_(std::make_unique<Store>()) {
  X509_STORE_set_default_paths(store_->roots);
  if (!rules_.ca_file.empty()) X509_STORE_load_file(store_->roots, rules_.ca_file.c_str());
  for (auto& h : rules_.hosts) h = lower(h);
}

SigningCertificates::~SigningCertificates() = default;

bool SigningCertificates::allowed(std::string_view url, connectors::http::Url& parsed, std::string& reason) const {
  std::string error;
  if (url.empty()) {
    reason = "no X-MS-Certificate-Url header";
    return false;
  }
  if (!connectors::http::Url::parse(std::string(url), parsed, error)) {
    reason = "the certificate URL is not a URL";
    return false;
  }
  if (!parsed.tls) {
    reason = "the certificate URL is not https";
    return false;
  }
  const auto host = lower(parsed.host);
  for (const auto& allowed_host : rules_.hosts) {
    const bool with_port = allowed_host.find(':') != std::string::npos && allowed_host.front() != '[';
    if (with_port ? allowed_host == host + ":" + parsed.port : (allowed_host == host && parsed.port == "443")) {
      return true;
    }
  }
  reason = "the certificate URL's host is not on certificate_hosts";
  return false;
}

SigningCertificates::Verdict SigningCertificates::find(const std::string& url, std::int64_t now_ms,
                                                       std::shared_ptr<const SigningKey>& key,
                                                       std::string& reason) const {
  std::lock_guard lock(mutex_);
  const auto it = cache_.find(url);
  if (it == cache_.end() || it->second.expires_ms <= now_ms) return Verdict::Unknown;
  key = it->second.key;
  reason = it->second.reason;
  return it->second.verdict;
}

void SigningCertificates::remember(const std::string& url, Entry entry, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kMaxCachedUrls && cache_.find(url) == cache_.end()) {
    std::erase_if(cache_, [&](const auto& e) { return e.second.expires_ms <= now_ms; });
    if (cache_.size() >= kMaxCachedUrls) cache_.erase(cache_.begin());
  }
  cache_[url] = std::move(entry);
}

void SigningCertificates::unreachable(const std::string& url, std::int64_t now_ms, const std::string& reason) {
  remember(url, {Verdict::Unreachable, nullptr, reason, now_ms + kUnreachableForMs}, now_ms);
}

SigningCertificates::Verdict SigningCertificates::learn(const std::string& url, std::string_view certificate,
                                                        std::int64_t now_ms, std::shared_ptr<const SigningKey>& key,
                                                        std::string& reason) {
  std::int64_t not_after_ms = 0;
  const auto verdict = judge(certificate, now_ms, key, not_after_ms, reason);
  const auto expires = verdict == Verdict::Accepted ? std::min(now_ms + rules_.cache_for.count(), not_after_ms)
                                                    : now_ms + kRefusedForMs;
  remember(url, {verdict, key, reason, expires}, now_ms);
  return verdict;
}

SigningCertificates::Verdict SigningCertificates::judge(std::string_view certificate, std::int64_t now_ms,
                                                        std::shared_ptr<const SigningKey>& key,
                                                        std::int64_t& not_after_ms, std::string& reason) const {
  key.reset();
  if (certificate.size() > kMaxCertificateBytes) {
    reason = "the certificate download is larger than 64 KiB";
    return Verdict::Refused;
  }
  auto certificates = read_certificates(certificate);
  if (certificates.empty()) {
    reason = "the download is not a PEM or DER certificate";
    return Verdict::Refused;
  }
  X509* leaf = certificates.front().get();
  ChainPtr intermediates(sk_X509_new_null());
  for (std::size_t i = 1; i < certificates.size(); ++i) sk_X509_push(intermediates.get(), certificates[i].release());

  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), &X509_STORE_CTX_free);
  if (X509_STORE_CTX_init(ctx.get(), store_->roots, leaf, intermediates.get()) != 1) {
    reason = "cannot set up certificate verification";
    return Verdict::Refused;
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now_ms / 1000));
  if (X509_verify_cert(ctx.get()) != 1) {
    reason = std::string("the certificate's chain does not verify: ") +
             X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    return Verdict::Refused;
  }

  const auto subject_cn = lower(name_entry(X509_get_subject_name(leaf), NID_commonName));
  const auto expected = lower(rules_.subject);
  const bool subject_ok = !expected.empty() && (subject_cn == expected ||
                                                (subject_cn.size() > expected.size() &&
                                                 subject_cn.ends_with("." + expected)));
  if (!subject_ok) {
    reason = "the certificate is issued to '" + subject_cn + "', not to " + rules_.subject;
    return Verdict::Refused;
  }
  const X509_NAME* issuer = X509_get_issuer_name(leaf);
  const auto issuer_o = name_entry(issuer, NID_organizationName);
  const auto issuer_cn = name_entry(issuer, NID_commonName);
  if (rules_.issuer.empty() || (issuer_o.find(rules_.issuer) == std::string::npos &&
                                issuer_cn.find(rules_.issuer) == std::string::npos)) {
    reason = "the certificate's issuer '" + issuer_cn + "' is not " + rules_.issuer;
    return Verdict::Refused;
  }

  EVP_PKEY* pkey = X509_get0_pubkey(leaf);
  if (pkey == nullptr || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
    reason = "the certificate's key is not RSA";
    return Verdict::Refused;
  }
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) != 1) {
    reason = "the certificate's expiry cannot be read";
    return Verdict::Refused;
  }
  not_after_ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  EVP_PKEY_up_ref(pkey);
  key = std::make_shared<const SigningKey>(pkey);
  reason.clear();
  return Verdict::Accepted;
}

std::string_view presented_signature(std::string_view authorization, std::string_view x_ms_signature) {
  constexpr std::string_view kScheme = "Signature ";
  if (util::istarts_with(authorization, kScheme)) return util::trim(authorization.substr(kScheme.size()));
  return util::trim(x_ms_signature);
}

bool verify_rsa_sha256(const SigningKey& key, std::string_view body, std::string_view signature_base64) {
  std::string signature;
  if (signature_base64.empty() || !util::base64_decode(signature_base64, signature)) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(body.data()), body.size()) == 1;
}

}  // namespace leadrelay::intake
