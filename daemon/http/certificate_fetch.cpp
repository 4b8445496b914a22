#include "daemon/http/certificate_fetch.hpp"

#include "connectors/http/http_client.hpp"
#include "daemon/log/log.hpp"

namespace leadrelay::http {

CertificateLookup fetch_signing_certificate(intake::SigningCertificates& certificates, const std::string& url,
                                            const connectors::http::Url& parsed) {
  using Verdict = intake::SigningCertificates::Verdict;
  CertificateLookup out;
  const auto now = log::now_unix_ms();
  // Requests that waited behind the same download find its verdict here.
  out.verdict = certificates.find(url, now, out.key, out.reason);
  if (out.verdict != Verdict::Unknown) return out;

  connectors::http::ClientOptions options;
  options.ca_file = certificates.rules().ca_file;
  options.connect_timeout = std::chrono::seconds(5);
  options.request_timeout = std::chrono::seconds(10);
  connectors::http::Client client(options);
  connectors::http::Request request;
  request.method = "GET";
  request.target = parsed.target;
  connectors::http::Response response;
  std::string error;
  if (!client.send(parsed, request, response, error)) {
    out.reason = "cannot download the signing certificate: " + error;
    certificates.unreachable(url, now, out.reason);
    out.verdict = Verdict::Unreachable;
    return out;
  }
  if (response.status == 429 || response.status >= 500) {
    out.reason = "the certificate host answered " + std::to_string(response.status);
    certificates.unreachable(url, now, out.reason);
    out.verdict = Verdict::Unreachable;
    return out;
  }
  if (response.status != 200) response.body.clear();  // 3xx, 404, ...: judged as no certificate
  out.verdict = certificates.learn(url, response.body, log::now_unix_ms(), out.key, out.reason);
  if (response.status != 200) out.reason = "the certificate host answered " + std::to_string(response.status);
  return out;
}

}  // namespace leadrelay::http
