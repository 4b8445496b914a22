#pragma once
// Posts notifications to a Teams or Slack incoming webhook with the sinks' HTTP client: an Adaptive Card
// (Teams: a message with one application/vnd.microsoft.card.adaptive attachment) or a Block Kit message (Slack),
// with the facts the mail gives. Answers are judged as every webhook's (2xx done; 408, 429 and 5xx retried with
// Retry-After; other 4xx a dead letter).
#include <memory>
#include <string>

#include "connectors/http/http_client.hpp"
#include "connectors/notify/channel_config.hpp"
#include "connectors/notify/templates.hpp"
#include "connectors/sinks/sink.hpp"

namespace leadrelay::connectors::notify {

// The JSON body posted for a notification document of `kind` (its title is the mail's subject).
std::string teams_card(std::string_view kind, std::string_view document, const std::string& title);
std::string slack_message(std::string_view kind, std::string_view document, const std::string& title);

class ChatSink final : public Sink {
 public:
  ChatSink(ChannelConfig config, std::shared_ptr<const Templates> templates);
  DeliveryResult deliver(const DeliveryItem& item) override;

 private:
  ChannelConfig config_;
  std::shared_ptr<const Templates> templates_;
  http::Client client_;
  http::Url url_;
  std::string url_error_;
};

}  // namespace leadrelay::connectors::notify
