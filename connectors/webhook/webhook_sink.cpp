#include "connectors/webhook/webhook_sink.hpp"

#include <ctime>

#include "daemon/util/standard_webhooks.hpp"

namespace leadrelay::connectors::http {

DeliveryResult judge(const Response& response) {
  const auto s = response.status;
  if (s >= 200 && s < 300) return {};
  std::string message = "HTTP " + std::to_string(s);
  if (!response.body.empty()) message += ": " + response.body.substr(0, 500);
  if (s == 408 || s == 425 || s == 429 || s >= 500) {
    return {DeliveryResult::Status::Retry, std::move(message), retry_after(response)};
  }
  return {DeliveryResult::Status::Permanent, std::move(message), {}};
}

}  // namespace leadrelay::connectors::http

namespace leadrelay::connectors::webhook {

WebhookSink::WebhookSink(const WebhookOptions& options)
    : options_(options),
      client_({options.tls_verify, options.ca_file, options.connect_timeout, options.request_timeout}) {
  http::Url::parse(options_.url, url_, url_error_);
}

DeliveryResult WebhookSink::deliver(const DeliveryItem& item) {
  if (!url_error_.empty()) return {DeliveryResult::Status::Permanent, url_error_, {}};
  const auto id = "msg_" + item.lead_id;
  const auto timestamp = static_cast<std::int64_t>(std::time(nullptr));
  http::Request request;
  request.target = url_.target;
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", id},
                     {"webhook-timestamp", std::to_string(timestamp)},
                     {"webhook-signature", util::standard_webhooks::sign(options_.secrets, id, timestamp, item.lead_json)}};
  request.body = item.lead_json;
  http::Response response;
  std::string error;
  if (!client_.send(url_, request, response, error)) return {DeliveryResult::Status::Retry, error, {}};
  return http::judge(response);
}

}  // namespace leadrelay::connectors::webhook
