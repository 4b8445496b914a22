// Fuzz target: what leadrelay reads from the services it calls. The bytes are an HTTP answer as the client reads
// it (status line, headers, Content-Length or chunked body, with the client's limits); then everything that reads
// an answer judges it: Retry-After, a token endpoint's answer (expires_in, instance_url), each CRM's judgement of
// an upsert, Salesforce's one-result-per-record collections and the webhook sink's reading.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/crm/crm_sink.hpp"
#include "connectors/http/response.hpp"
#include "connectors/webhook/webhook_sink.hpp"

namespace {
using namespace leadrelay::connectors;

std::unique_ptr<crm::CrmSink> sink(crm::CrmKind kind) {
  crm::CrmOptions o;
  o.kind = kind;
  o.key_field = kind == crm::CrmKind::HubSpot ? "email" : "leadrelay_id";
  o.slow_down_at = 0.9;
  return crm::make_crm_sink(o);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto dynamics = sink(crm::CrmKind::Dynamics);
  static const auto salesforce = sink(crm::CrmKind::Salesforce);
  static const auto hubspot = sink(crm::CrmKind::HubSpot);
  http::Response response;
  std::string error;
  if (!http::parse_response({reinterpret_cast<const char*>(data), size}, response, error)) return 0;
  (void)http::retry_after(response, 1795500000);
  (void)http::retry_after(response);
  crm::TokenAnswer token;
  DeliveryResult failure;
  (void)crm::read_token_answer(response, token, failure);
  (void)crm::crm_message(response);
  for (auto* s : {dynamics.get(), salesforce.get(), hubspot.get()}) (void)s->judge(response);
  std::vector<DeliveryResult> results;
  (void)crm::salesforce_collection_results(response, size % 8, results);
  (void)http::judge(response);
  return 0;
}
