#include "connectors/notify/chat_sink.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "connectors/webhook/webhook_sink.hpp"
#include "daemon/util/json_write.hpp"

namespace leadrelay::connectors::notify {
namespace {
using util::json::Writer;
using util::json::string;

std::string text_of(const rapidjson::Value& lead, const char* key) {
  const auto it = lead.FindMember(key);
  if (it == lead.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool flag_of(const rapidjson::Value& lead, const char* key) {
  const auto it = lead.FindMember(key);
  return it != lead.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}


// The facts of one lead, label and value, in the mail's order; empty values left out.
std::vector<std::pair<std::string, std::string>> facts(const rapidjson::Value& lead) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto add = [&](const char* label, std::string value) {
    if (!value.empty()) out.emplace_back(label, std::move(value));
  };
  add("Name", text_of(lead, "name"));
  add("Company", text_of(lead, "company"));
  const auto email = text_of(lead, "email");
  add("Email", email.empty() ? "" : email + " (" + text_of(lead, "email_verdict") + ")");
  const auto phone = text_of(lead, "phone");
  add("Phone", phone.empty() ? "" : phone + " (" + text_of(lead, "phone_verdict") + ")");
  add("Country", text_of(lead, "country"));
  add("Offer", text_of(lead, "offer"));
  add("Call to action", text_of(lead, "call_to_action"));
  auto quality = text_of(lead, "quality");
  if (flag_of(lead, "low_quality")) quality += ": " + text_of(lead, "quality_reasons_text");
  add("Quality", quality);
  add("Hot", flag_of(lead, "hot") ? "yes: the customer asked to be contacted" : "");
  add("Expires", text_of(lead, "expires_at"));
  return out;
}

// Slack's mrkdwn treats &, < and > as markup.
std::string slack_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

bool parse(std::string_view document, rapidjson::Document& doc) {
  doc.Parse(document.data(), document.size());
  return !doc.HasParseError() && doc.IsObject() && doc.HasMember("leads") && doc["leads"].IsArray();
}

}  // namespace

std::string teams_card(std::string_view kind, std::string_view document, const std::string& title) {
  rapidjson::Document doc;
  if (!parse(document, doc)) return {};
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  string(w, "type", "message");
  w.Key("attachments");
  w.StartArray();
  w.StartObject();
  string(w, "contentType", "application/vnd.microsoft.card.adaptive");
  w.Key("content");
  w.StartObject();
  string(w, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
  string(w, "type", "AdaptiveCard");
  string(w, "version", "1.4");
  w.Key("body");
  w.StartArray();
  w.StartObject();
  string(w, "type", "TextBlock");
  string(w, "size", "Medium");
  string(w, "weight", "Bolder");
  string(w, "text", title);
  w.Key("wrap");
  w.Bool(true);
  if (kind == "hot") string(w, "color", "Attention");
  w.EndObject();
  std::vector<std::string> links;
  for (const auto& lead : doc["leads"].GetArray()) {
    w.StartObject();
    string(w, "type", "FactSet");
    w.Key("facts");
    w.StartArray();
    for (const auto& [label, value] : facts(lead)) {
      w.StartObject();
      string(w, "title", label);
      string(w, "value", value);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    if (const auto link = text_of(lead, "link"); !link.empty()) links.push_back(link);
  }
  w.EndArray();
  if (kind != "digest" && !links.empty()) {
    w.Key("actions");
    w.StartArray();
    w.StartObject();
    string(w, "type", "Action.OpenUrl");
    string(w, "title", "Open the lead");
    string(w, "url", links.front());
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string slack_message(std::string_view kind, std::string_view document, const std::string& title) {
  rapidjson::Document doc;
  if (!parse(document, doc)) return {};
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  string(w, "text", title);  // the notification's text where blocks are not shown
  w.Key("blocks");
  w.StartArray();
  w.StartObject();
  string(w, "type", "header");
  w.Key("text");
  w.StartObject();
  string(w, "type", "plain_text");
  string(w, "text", title.substr(0, 150));
  w.EndObject();
  w.EndObject();
  int sections = 0;
  for (const auto& lead : doc["leads"].GetArray()) {
    if (++sections > 40) break;  // Slack takes 50 blocks a message
    w.StartObject();
    string(w, "type", "section");
    w.Key("fields");
    w.StartArray();
    int fields = 0;
    for (const auto& [label, value] : facts(lead)) {
      if (++fields > 10) break;  // and 10 fields a section
      w.StartObject();
      string(w, "type", "mrkdwn");
      string(w, "text", "*" + label + "*\n" + slack_escape(value));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    if (const auto link = text_of(lead, "link"); !link.empty() && kind != "digest") {
      w.StartObject();
      string(w, "type", "actions");
      w.Key("elements");
      w.StartArray();
      w.StartObject();
      string(w, "type", "button");
      w.Key("text");
      w.StartObject();
      string(w, "type", "plain_text");
      string(w, "text", "Open the lead");
      w.EndObject();
      string(w, "url", link);
      w.EndObject();
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

ChatSink::ChatSink(ChannelConfig config, std::shared_ptr<const Templates> templates)
    : config_(std::move(config)),
      templates_(std::move(templates)),
      client_({config_.tls_verify, config_.ca_file, config_.connect_timeout, config_.request_timeout}) {
  http::Url::parse(config_.url, url_, url_error_);
}

DeliveryResult ChatSink::deliver(const DeliveryItem& item) {
  if (!url_error_.empty()) return {DeliveryResult::Status::Permanent, "the webhook URL: " + url_error_, {}};
  const auto kind = kind_of_key(item.key);
  Message message;
  std::string error;
  if (!templates_->render(kind, item.lead_json, message, error)) return {DeliveryResult::Status::Permanent, error, {}};
  http::Request request;
  request.target = url_.target;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = config_.type == "teams" ? teams_card(kind, item.lead_json, message.subject)
                                         : slack_message(kind, item.lead_json, message.subject);
  if (request.body.empty()) return {DeliveryResult::Status::Permanent, "the notification's document is unreadable", {}};
  http::Response response;
  if (!client_.send(url_, request, response, error)) return {DeliveryResult::Status::Retry, error, {}};
  auto result = http::judge(response);
  if (result.status == DeliveryResult::Status::Ok) result.message = "HTTP " + std::to_string(response.status);
  return result;
}

}  // namespace leadrelay::connectors::notify
