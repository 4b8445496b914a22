// Fuzz target: the HTTP request path. Beast parses raw bytes as a request (as the listener does, with its
// limits), then intake decides on the head and, for a lead path, authenticates, parses and maps the body. Three
// sources: a query secret, hmac (Standard Webhooks headers: webhook-timestamp is a peer's number) and
// partner_center (the presented signature and the X-MS-Certificate-Url allow-list; no certificate is downloaded
// here, so its bodies are refused as unsigned, as the listener does when no certificate was accepted).
#include <boost/beast/http.hpp>

#include <cstdint>
#include <string>

#include "daemon/intake/intake.hpp"

namespace {
using namespace leadrelay;
namespace bhttp = boost::beast::http;

const intake::Intake& intake_under_test() {
  static const intake::Intake in = [] {
    intake::SourceConfig q;
    q.name = "marketplace";
    q.path = "/leads/marketplace";
    q.format = "ms-marketplace";
    q.auth.type = intake::AuthType::QuerySecret;
    q.auth.param = "code";
    q.auth.secrets = {"fuzz-secret-fuzz-secret"};
    q.replay_window = std::chrono::hours(24);
    intake::SourceConfig h = q;
    h.name = "signed";
    h.path = "/leads/signed";
    h.auth.type = intake::AuthType::Hmac;
    h.idempotency_json_pointer = "/id";
    intake::SourceConfig pc = q;
    pc.name = "partner-center";
    pc.path = "/leads/partner-center";
    pc.auth.type = intake::AuthType::PartnerCenter;
    pc.auth.secrets.clear();
    pc.auth.certificates.hosts = {"3psostorageacct.blob.core.windows.net"};
    pc.auth.certificates.subject = "microsoft.com";
    pc.auth.certificates.issuer = "Microsoft";
    return intake::Intake({q, h, pc});
  }();
  return in;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(8192);
  parser.body_limit(65536);
  boost::beast::error_code ec;
  parser.eager(true);
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  const auto& req = parser.get();
  const auto& in = intake_under_test();
  const intake::RequestHead head{req.method_string(), req.target(), req[bhttp::field::content_type],
                                 req[bhttp::field::authorization]};
  const auto decision = in.on_head(head);
  if (decision.route != intake::Route::Lead || !parser.is_done()) return 0;
  model::Lead lead;
  std::string replay_key;
  intake::Rejection error;
  intake::SignatureHeaders signature{req["webhook-id"], req["webhook-timestamp"], req["webhook-signature"]};
  if (const auto* certificates = decision.source->auth.certificates(); certificates != nullptr) {
    signature.signature = intake::presented_signature(req[bhttp::field::authorization], req["x-ms-signature"]);
    signature.algorithm = req["x-ms-signature-algorithm"];
    connectors::http::Url url;
    std::string reason;
    (void)certificates->allowed(req["x-ms-certificate-url"], url, reason);
  }
  if (in.on_body(*decision.source, req.body(), 1732320000000, lead, replay_key, error, req["Idempotency-Key"],
                 signature)) {
    (void)model::to_json(lead);
  }
  return 0;
}
