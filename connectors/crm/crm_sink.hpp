#pragma once
// The CRM sinks: each lead is upserted by a key that is leadrelay's lead id (Dynamics: alternate key;
// Salesforce: external-ID field) or the contact's email (HubSpot idProperty), so a retry or a replay updates the
// record it created instead of making a second one. Tokens (OAuth2 client credentials) are cached until they
// expire and fetched again once on a 401. Each CRM's throttling answer is a retry: Dataverse 429 with
// Retry-After, Salesforce 403 REQUEST_LIMIT_EXCEEDED (and a pause between requests once Sforce-Limit-Info shows
// the daily allowance nearly used), HubSpot 429. Validation errors are permanent, with the CRM's message.
#include <chrono>

#include "connectors/crm/crm_config.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/sinks/sink.hpp"

namespace leadrelay::connectors::crm {

class CrmSink final : public Sink {
 public:
  explicit CrmSink(const CrmOptions& options);
  DeliveryResult deliver(const DeliveryItem& item) override;
  std::size_t max_batch() const override { return options_.kind == CrmKind::Salesforce ? options_.batch_size : 1; }
  std::vector<DeliveryResult> deliver_batch(std::span<const DeliveryItem> items) override;

 private:
  // Sends one request with a bearer token, fetching a new token and sending once more on a 401.
  bool send_authorized(http::Request request, const std::string& base, http::Response& response,
                       DeliveryResult& failure);
  // A bearer token, from the cache or the token endpoint; false with a result to return.
  bool token(std::string& out, DeliveryResult& failure);
  DeliveryResult attempt(const DeliveryItem& item, const std::string& record);
  DeliveryResult judge(const http::Response& response);

  CrmOptions options_;
  http::Client client_;
  std::string access_token_;
  std::string instance_url_;  // salesforce: where the REST API lives (from the token answer)
  std::chrono::steady_clock::time_point token_expires_{};
  std::chrono::milliseconds pause_{0};  // salesforce: near the daily allowance
};

}  // namespace leadrelay::connectors::crm
