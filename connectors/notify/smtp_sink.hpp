#pragma once
// Mails notifications with libcurl's SMTP client: STARTTLS (required unless configured off) or implicit TLS
// (smtps://), certificate and name verification, AUTH PLAIN or LOGIN, a connect and a whole-message deadline.
// Each message is multipart/alternative (plain text, then HTML, quoted-printable), its subject and sender name
// encoded per RFC 2047 when they are not plain ASCII, with a Message-ID made of the notification's key, so that a
// mail sent again after a crash is recognisably the same one. What the server answered comes back in the result.
#include <memory>
#include <string>

#include "connectors/notify/channel_config.hpp"
#include "connectors/notify/templates.hpp"
#include "connectors/sinks/sink.hpp"

namespace leadrelay::connectors::notify {

// "=?UTF-8?B?...?=" words for a header value that is not printable ASCII (control characters become spaces).
std::string encode_header_word(std::string_view text);
// <kind.rule.lead-id@domain>: only letters, digits, '.', '-' and '_' from the key, the rest %-escaped.
std::string message_id(std::string_view key, std::string_view from_address);

// One worker thread uses a sink at a time (its DeliveryWorker); its libcurl handle keeps the connection to the
// server open between messages (libcurl's connection cache), so a burst of mails is not a TLS handshake and a
// login each.
class SmtpSink final : public Sink {
 public:
  SmtpSink(EmailConfig config, std::shared_ptr<const Templates> templates);
  ~SmtpSink() override;
  DeliveryResult deliver(const DeliveryItem& item) override;
  // Sends one rendered message (also `leadrelay notify test`).
  DeliveryResult send(const Message& message, const std::string& key, int attempt);

 private:
  EmailConfig config_;
  std::shared_ptr<const Templates> templates_;
  void* curl_ = nullptr;  // CURL*
};

}  // namespace leadrelay::connectors::notify
