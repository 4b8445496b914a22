// Partner Center signatures, the parts without a network: which certificate URLs may be fetched at all (no
// server-side request forgery), where the signature is read from, the algorithm check, and the config keys.
#include "daemon/intake/signing_certificates.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/app/config.hpp"
#include "daemon/intake/auth.hpp"
#include "daemon/util/digest.hpp"

namespace leadrelay::intake {
namespace {

SigningCertificates certificates(std::vector<std::string> hosts) {
  CertificateRules rules;
  rules.hosts = std::move(hosts);
  rules.subject = "microsoft.com";
  rules.issuer = "Microsoft";
  return SigningCertificates(rules);
}

bool allowed(const SigningCertificates& c, std::string_view url) {
  connectors::http::Url parsed;
  std::string reason;
  const bool ok = c.allowed(url, parsed, reason);
  EXPECT_EQ(ok, reason.empty()) << url;
  return ok;
}

TEST(SigningCertificates, OnlyHttpsUrlsOnAllowedHostsAreFetched) {
  const auto c = certificates({"3psostorageacct.blob.core.windows.net", "certs.example.net:8443"});
  EXPECT_TRUE(allowed(c, "https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer"));
  EXPECT_TRUE(allowed(c, "https://3PSOSTORAGEACCT.blob.core.windows.net/cert/x.cer"));  // host names ignore case
  EXPECT_TRUE(allowed(c, "https://3psostorageacct.blob.core.windows.net:443/cert/x.cer"));
  EXPECT_TRUE(allowed(c, "https://certs.example.net:8443/x.cer"));

  for (const char* url : {
           "http://3psostorageacct.blob.core.windows.net/cert/x.cer",          // not https
           "https://3psostorageacct.blob.core.windows.net:8443/cert/x.cer",    // another port
           "https://certs.example.net/x.cer",                                  // listed with another port only
           "https://evil.example/3psostorageacct.blob.core.windows.net",       // the name in the path
           "https://3psostorageacct.blob.core.windows.net.evil.example/x.cer", // a suffix
           "https://x.3psostorageacct.blob.core.windows.net/x.cer",            // a subdomain
           "https://user@3psostorageacct.blob.core.windows.net/x.cer",         // user info
           "https://evil.example#@3psostorageacct.blob.core.windows.net/",
           "https://169.254.169.254/metadata/instance",
           "https://[::1]/x.cer",
           "file:///etc/passwd",
           "3psostorageacct.blob.core.windows.net/cert/x.cer",
           "",
       }) {
    EXPECT_FALSE(allowed(c, url)) << url;
  }
}

TEST(SigningCertificates, NothingKnownBeforeADownload) {
  auto c = certificates({"h"});
  std::shared_ptr<const SigningKey> key;
  std::string reason;
  EXPECT_EQ(c.find("https://h/x", 1000, key, reason), SigningCertificates::Verdict::Unknown);
  // A download that failed is remembered briefly, then tried again.
  c.unreachable("https://h/x", 1000, "connection refused");
  EXPECT_EQ(c.find("https://h/x", 2000, key, reason), SigningCertificates::Verdict::Unreachable);
  EXPECT_EQ(reason, "connection refused");
  EXPECT_EQ(c.find("https://h/x", 1000 + 5000, key, reason), SigningCertificates::Verdict::Unknown);
  // Bytes that are no certificate are refused, and the refusal is remembered.
  EXPECT_EQ(c.learn("https://h/y", "<html>not found</html>", 1000, key, reason), SigningCertificates::Verdict::Refused);
  EXPECT_EQ(key, nullptr);
  EXPECT_EQ(c.find("https://h/y", 60000, key, reason), SigningCertificates::Verdict::Refused);
  EXPECT_EQ(c.learn("https://h/z", std::string(70 * 1024, 'A'), 1000, key, reason),
            SigningCertificates::Verdict::Refused);
  EXPECT_NE(reason.find("64 KiB"), std::string::npos);
}

TEST(SigningCertificates, SignatureFromAuthorizationOrHeader) {
  EXPECT_EQ(presented_signature("Signature abc=", ""), "abc=");
  EXPECT_EQ(presented_signature("signature  abc= ", "zzz"), "abc=");
  EXPECT_EQ(presented_signature("Bearer abc", "def="), "def=");
  EXPECT_EQ(presented_signature("", ""), "");
}

TEST(SigningCertificates, NoKeyOrAnotherAlgorithmIsRefused) {
  AuthConfig config;
  config.type = AuthType::PartnerCenter;
  config.certificates.hosts = {"h"};
  const SourceAuth auth(config);
  ASSERT_NE(auth.certificates(), nullptr);
  EXPECT_TRUE(auth.check("", ""));  // nothing to check before the body
  EXPECT_FALSE(auth.check_rsa_signature(nullptr, "rsa-sha256", "AAAA", "{}"));
  EXPECT_FALSE(auth.check_rsa_signature(nullptr, "", "", "{}"));
}

TEST(Base64, RoundTripsAndRefusesGarbage) {
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::string back;
    ASSERT_TRUE(util::base64_decode(util::base64_encode(s), back)) << s;
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(util::base64_encode("foobar"), "Zm9vYmFy");
  std::string out;
  EXPECT_FALSE(util::base64_decode("abc", out));
  EXPECT_FALSE(util::base64_decode("ab!d", out));
}

class PartnerCenterConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("leadrelay-pc-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "good.secret") << "0123456789abcdef0123\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> errors(const std::string& auth) {
    const std::string yaml =
        "state_dir: ./state\nsources:\n  - name: pc\n    path: /leads/pc\n    format: ms-marketplace\n    auth:\n" + auth;
    std::vector<std::string> out;
    for (const auto& d : app::load_config_text(yaml, "leadrelay.yaml", dir_).errors) out.push_back(d.to_string());
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(PartnerCenterConfig, DefaultsAndErrors) {
  const std::string yaml =
      "state_dir: ./state\nsources:\n  - name: pc\n    path: /leads/pc\n    format: ms-marketplace\n    auth:\n"
      "      type: partner_center\n";
  const auto r = app::load_config_text(yaml, "leadrelay.yaml", dir_);
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& rules = r.config->sources[0].auth.certificates;
  EXPECT_EQ(rules.hosts, std::vector<std::string>{"3psostorageacct.blob.core.windows.net"});
  EXPECT_EQ(rules.subject, "microsoft.com");
  EXPECT_EQ(rules.issuer, "Microsoft");
  EXPECT_EQ(rules.cache_for, std::chrono::hours(24));

  EXPECT_EQ(errors("      type: partner_center\n      secret_file: good.secret\n"),
            std::vector<std::string>{"leadrelay.yaml:7:13: sources[0].auth.type: type 'partner_center' takes no "
                                     "secret: the signature is checked with Microsoft's certificate"});
  EXPECT_EQ(errors("      secret_file: good.secret\n      certificate_hosts: [a.example]\n"),
            std::vector<std::string>{"leadrelay.yaml:8:26: sources[0].auth.certificate_hosts: only type "
                                     "'partner_center' takes this key"});
  EXPECT_EQ(errors("      type: partner_center\n      certificate_hosts: [\"https://a.example/x\"]\n"),
            std::vector<std::string>{"leadrelay.yaml:8:26: sources[0].auth.certificate_hosts: "
                                     "'https://a.example/x' is not a host or host:port"});
  EXPECT_EQ(errors("      type: partner_center\n      ca_file: missing.pem\n"),
            std::vector<std::string>{"leadrelay.yaml:8:16: sources[0].auth.ca_file: cannot read '" +
                                     (dir_ / "missing.pem").string() + "'; give a PEM file of CA certificates"});
}

}  // namespace
}  // namespace leadrelay::intake
