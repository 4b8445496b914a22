#include "connectors/notify/smtp_sink.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <ctime>
#include <mutex>

namespace leadrelay::connectors::notify {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string rfc5322_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char out[64];
  std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return out;
}

// The server's replies as they come (libcurl hands SMTP responses over as "header" data).
struct Transcript {
  std::string last;
};

int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto* t = static_cast<Transcript*>(user);
  std::string line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!line.empty()) t->last = line.substr(0, 300);
  return 0;
}

// What one message needs beside the sink's handle, freed after the transfer.
struct Handles {
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* recipients = nullptr;
  curl_mime* mime = nullptr;
  ~Handles() {
    if (mime != nullptr) curl_mime_free(mime);
    curl_slist_free_all(headers);
    curl_slist_free_all(recipients);
  }
};

bool is_login_refusal(CURLcode rc, long code) { return rc == CURLE_LOGIN_DENIED || code == 535 || code == 534; }

}  // namespace

std::string encode_header_word(std::string_view text) {
  std::string clean;
  bool plain = true;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      clean += ' ';
      continue;
    }
    if (u >= 0x80) plain = false;
    clean += c;
  }
  if (plain && clean.find("=?") == std::string::npos) return clean;
  // Encoded words of at most 45 bytes each (60 in base64), never splitting a UTF-8 sequence.
  std::string out;
  std::size_t start = 0;
  while (start < clean.size()) {
    std::size_t end = std::min(clean.size(), start + 45);
    while (end < clean.size() && end > start && (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) --end;
    if (end == start) end = std::min(clean.size(), start + 45);
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string message_id(std::string_view key, std::string_view from_address) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string local;
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_') {
      local += c;
    } else if (c == '|') {
      local += '.';
    } else {
      local += '%';
      local += kHex[u >> 4];
      local += kHex[u & 15];
    }
  }
  const auto at = from_address.rfind('@');
  const auto domain = at == std::string_view::npos ? std::string_view("leadrelay.invalid") : from_address.substr(at + 1);
  return "<" + local + "@" + std::string(domain) + ">";
}

SmtpSink::SmtpSink(EmailConfig config, std::shared_ptr<const Templates> templates)
    : config_(std::move(config)), templates_(std::move(templates)) {
  global_init();
  curl_ = curl_easy_init();
}

SmtpSink::~SmtpSink() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

DeliveryResult SmtpSink::deliver(const DeliveryItem& item) {
  Message message;
  std::string error;
  if (!templates_->render(kind_of_key(item.key), item.lead_json, message, error)) {
    return {DeliveryResult::Status::Permanent, error, {}};
  }
  if (message.to.empty()) return {DeliveryResult::Status::Ok, "no recipients", {}};
  return send(message, item.key, item.attempt);
}

DeliveryResult SmtpSink::send(const Message& message, const std::string& key, int attempt) {
  if (curl_ == nullptr) return {DeliveryResult::Status::Retry, "libcurl could not start a transfer", {}};
  Handles h;
  h.curl = static_cast<CURL*>(curl_);
  CURL* c = h.curl;
  curl_easy_reset(c);  // every option set again below; the open connection stays in the handle's cache
  Transcript transcript;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &transcript);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  if (config_.url.rfind("smtp://", 0) == 0) {
    curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(config_.starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  }
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, config_.tls_verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, config_.tls_verify ? 2L : 0L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!config_.ca_file.empty()) {
    // The file's CAs beside the system's (CAINFO alone would replace them).
    curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, "/etc/ssl/certs");
  }
  if (!config_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
    const char* mech = config_.auth == "plain" ? "AUTH=PLAIN" : config_.auth == "login" ? "AUTH=LOGIN" : "AUTH=*";
    curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, mech);
  }
  const auto from = "<" + config_.from_address + ">";
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  std::string to_header;
  for (const auto& r : message.to) {
    h.recipients = curl_slist_append(h.recipients, ("<" + r + ">").c_str());
    to_header += (to_header.empty() ? "" : ", ") + r;
  }
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, h.recipients);
  const auto from_header = config_.from_name.empty()
                               ? config_.from_address
                               : encode_header_word(config_.from_name) + " <" + config_.from_address + ">";
  for (const auto& line : {"From: " + from_header, "To: " + to_header, "Subject: " + encode_header_word(message.subject),
                           "Date: " + rfc5322_date(), "Message-ID: " + message_id(key, config_.from_address),
                           std::string("Auto-Submitted: auto-generated"), "X-Leadrelay-Kind: " + message.kind}) {
    h.headers = curl_slist_append(h.headers, line.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h.headers);
  // multipart/alternative: the plain text first, the HTML (preferred) last (RFC 2046 §5.1.4).
  h.mime = curl_mime_init(c);
  curl_mime* alternative = curl_mime_init(c);
  for (const auto* body : {&message.text, &message.html}) {
    curl_mimepart* part = curl_mime_addpart(alternative);
    curl_mime_data(part, body->data(), body->size());
    curl_mime_type(part, body == &message.text ? "text/plain; charset=utf-8" : "text/html; charset=utf-8");
    curl_mime_encoder(part, "quoted-printable");
  }
  curl_mimepart* inline_part = curl_mime_addpart(h.mime);
  curl_mime_subparts(inline_part, alternative);
  curl_mime_type(inline_part, "multipart/alternative");
  curl_easy_setopt(c, CURLOPT_MIMEPOST, h.mime);

  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (rc == CURLE_OK) return {DeliveryResult::Status::Ok, transcript.last, {}};
  std::string words = curl_easy_strerror(rc);
  if (errbuf[0] != '\0') words += ": " + std::string(errbuf);
  if (!transcript.last.empty()) words += "; the server said: " + transcript.last;
  if (is_login_refusal(rc, code)) {
    if (attempt + 1 >= config_.auth_attempts) {
      return {DeliveryResult::Status::Permanent,
              words + " (refused " + std::to_string(attempt + 1) + " times; check notifications.email.username and "
                      "password_file)",
              {}};
    }
    return {DeliveryResult::Status::Retry, words, {}};
  }
  // A definite refusal of this message (5xx other than a login): retrying sends the same thing to the same answer.
  if (code >= 500 && code < 600 && rc != CURLE_OPERATION_TIMEDOUT && rc != CURLE_COULDNT_CONNECT) {
    return {DeliveryResult::Status::Permanent, words, {}};
  }
  return {DeliveryResult::Status::Retry, words, {}};
}

}  // namespace leadrelay::connectors::notify
