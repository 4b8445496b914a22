#pragma once
// type: webhook. POSTs the lead.v1 JSON with Standard Webhooks headers: webhook-id (stable across retries, so
// receivers can drop repeats), webhook-timestamp (unix seconds) and webhook-signature ("v1,<base64 HMAC-SHA256 of
// id.timestamp.body>", one per secret while rotating). 2xx delivers; 408, 425, 429 and 5xx are retried (honouring
// Retry-After); other answers are permanent refusals (dead letters with the receiver's words).
#include <memory>

#include "connectors/http/http_client.hpp"
#include "connectors/sinks/sink.hpp"
#include "connectors/webhook/webhook_config.hpp"

namespace leadrelay::connectors::webhook {

class WebhookSink final : public Sink {
 public:
  explicit WebhookSink(const WebhookOptions& options);
  DeliveryResult deliver(const DeliveryItem& item) override;

 private:
  WebhookOptions options_;
  http::Url url_;
  std::string url_error_;
  http::Client client_;
};

}  // namespace leadrelay::connectors::webhook

namespace leadrelay::connectors::http {
// How an HTTP answer counts for a delivery: 2xx ok; 408, 425, 429, 5xx retry (with Retry-After); else permanent.
DeliveryResult judge(const Response& response);
}  // namespace leadrelay::connectors::http
