#pragma once
// Downloads a Partner Center signing certificate for SigningCertificates to judge. Blocking (the listener runs it on
// a worker thread), with connect and request deadlines, TLS verified against the system's roots and the source's
// ca_file, no redirects followed.
#include <memory>
#include <string>

#include "connectors/http/url.hpp"
#include "daemon/intake/signing_certificates.hpp"

namespace leadrelay::http {

struct CertificateLookup {
  intake::SigningCertificates::Verdict verdict = intake::SigningCertificates::Verdict::Unknown;
  std::shared_ptr<const intake::SigningKey> key;
  std::string reason;
};

// The verdict on the certificate at `url` (already allowed): from the cache, else downloaded and judged.
CertificateLookup fetch_signing_certificate(intake::SigningCertificates& certificates, const std::string& url,
                                            const connectors::http::Url& parsed);

}  // namespace leadrelay::http
