#include "connectors/crm/crm_sink.hpp"

#include <rapidjson/document.h>

#include <thread>

#include "connectors/webhook/webhook_sink.hpp"
#include "daemon/log/log.hpp"

namespace leadrelay::connectors::crm {
namespace {
using Status = DeliveryResult::Status;

std::string form_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The CRM's own words from an error answer: Dataverse {"error":{"message"}}, Salesforce [{"message","errorCode"}],
// HubSpot {"message"}; else the body's start.
std::string crm_message(const http::Response& response) {
  rapidjson::Document d;
  d.Parse(response.body.data(), response.body.size());
  std::string text;
  if (!d.HasParseError()) {
    const rapidjson::Value* v = &d;
    if (d.IsArray() && !d.Empty()) v = &d[0];
    if (v->IsObject() && v->HasMember("error") && (*v)["error"].IsObject()) v = &(*v)["error"];
    if (v->IsObject()) {
      for (const char* code : {"errorCode", "code", "category"}) {
        if (v->HasMember(code) && (*v)[code].IsString()) text += std::string((*v)[code].GetString()) + ": ";
      }
      if (v->HasMember("message") && (*v)["message"].IsString()) text += (*v)["message"].GetString();
    }
  }
  if (text.empty()) text = response.body.substr(0, 300);
  return "HTTP " + std::to_string(response.status) + (text.empty() ? "" : ": " + text);
}

}  // namespace

CrmSink::CrmSink(const CrmOptions& options)
    : options_(options),
      client_({options.tls_verify, options.ca_file, options.connect_timeout, options.request_timeout}) {}

bool CrmSink::token(std::string& out, DeliveryResult& failure) {
  if (options_.kind == CrmKind::HubSpot) {
    out = options_.token;
    return true;
  }
  if (!access_token_.empty() && std::chrono::steady_clock::now() < token_expires_) {
    out = access_token_;
    return true;
  }
  http::Url url;
  std::string error;
  if (!http::Url::parse(options_.token_url, url, error)) {
    failure = {Status::Permanent, error, {}};
    return false;
  }
  http::Request request;
  request.target = url.target;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body = "grant_type=client_credentials&client_id=" + form_encode(options_.client_id) +
                 "&client_secret=" + form_encode(options_.client_secret);
  if (!options_.scope.empty()) request.body += "&scope=" + form_encode(options_.scope);
  http::Response response;
  if (!client_.send(url, request, response, error)) {
    failure = {Status::Retry, "token endpoint: " + error, {}};
    return false;
  }
  rapidjson::Document d;
  d.Parse(response.body.data(), response.body.size());
  if (response.status != 200 || d.HasParseError() || !d.IsObject() || !d.HasMember("access_token") ||
      !d["access_token"].IsString()) {
    // A refused client is a configuration problem that leads must not be dropped for: retry (the breaker
    // slows it down) and say so in the log.
    failure = {Status::Retry, "token endpoint: " + crm_message(response), http::retry_after(response)};
    return false;
  }
  access_token_ = d["access_token"].GetString();
  if (d.HasMember("instance_url") && d["instance_url"].IsString()) instance_url_ = d["instance_url"].GetString();
  // Entra tokens say how long they last; Salesforce's do not (session timeout): keep until a 401.
  const auto lifetime = d.HasMember("expires_in") && d["expires_in"].IsInt()
                            ? std::chrono::seconds(d["expires_in"].GetInt())
                            : std::chrono::seconds(d.HasMember("expires_in") && d["expires_in"].IsString()
                                                       ? std::atoi(d["expires_in"].GetString())
                                                       : 7200);
  token_expires_ = std::chrono::steady_clock::now() + lifetime - std::min<std::chrono::seconds>(lifetime / 10, std::chrono::seconds(60));
  log::info("crm_token", {{"lifetime_s", static_cast<std::int64_t>(lifetime.count())}});
  out = access_token_;
  return true;
}

DeliveryResult CrmSink::judge(const http::Response& response) {
  const auto s = response.status;
  if (options_.kind == CrmKind::Salesforce) {
    // Sforce-Limit-Info: api-usage=used/limit. Past the threshold, space requests out instead of hitting the wall.
    if (const auto it = response.headers.find("sforce-limit-info"); it != response.headers.end()) {
      const auto eq = it->second.find("api-usage=");
      const auto slash = it->second.find('/', eq);
      if (eq != std::string::npos && slash != std::string::npos) {
        const double used = std::atof(it->second.c_str() + eq + 10);
        const double limit = std::atof(it->second.c_str() + slash + 1);
        pause_ = limit > 0 && used / limit >= options_.slow_down_at ? std::chrono::milliseconds(1000)
                                                                    : std::chrono::milliseconds(0);
      }
    }
    if (s == 300) {
      return {Status::Permanent, "HTTP 300: several Lead records have this " + options_.key_field +
                                     "; make the field unique, merge the records, then replay", {}};
    }
    if (s == 403 && response.body.find("REQUEST_LIMIT_EXCEEDED") != std::string::npos) {
      // The daily allowance is used up: throttling, not an auth failure; the backoff grows to max_backoff.
      return {Status::Retry, crm_message(response), http::retry_after(response)};
    }
  }
  if (options_.kind == CrmKind::HubSpot && s >= 200 && s < 300) {
    // A batch answers 200 (or 207 with errors per input).
    rapidjson::Document d;
    d.Parse(response.body.data(), response.body.size());
    if (s == 207 || (d.IsObject() && d.HasMember("errors") && d["errors"].IsArray() && !d["errors"].Empty())) {
      return {Status::Permanent, crm_message(response), {}};
    }
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("results")) {
      return {Status::Retry, "HTTP " + std::to_string(s) + ": an answer without results", {}};
    }
  }
  if (s >= 200 && s < 300) return {};
  if (s == 408 || s == 425 || s == 429 || s >= 500) {
    return {Status::Retry, crm_message(response), http::retry_after(response)};
  }
  return {Status::Permanent, crm_message(response), {}};
}

DeliveryResult CrmSink::attempt(const DeliveryItem& item, const std::string& record) {
  std::string base = options_.url;
  http::Request request;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  switch (options_.kind) {
    case CrmKind::Dynamics:
      request.method = "PATCH";
      request.target = "/api/data/v9.2/" + options_.entity + "(" + options_.key_field + "='" + item.lead_id + "')";
      request.headers.emplace_back("OData-Version", "4.0");
      request.headers.emplace_back("OData-MaxVersion", "4.0");
      request.body = record;
      break;
    case CrmKind::Salesforce:
      if (!instance_url_.empty()) base = instance_url_;
      request.method = "PATCH";
      request.target = "/services/data/" + options_.api_version + "/sobjects/Lead/" + options_.key_field + "/" +
                       item.lead_id;
      request.body = record;
      break;
    case CrmKind::HubSpot: {
      const auto id = lead_value(record, options_.key_field);
      if (id.empty()) {
        return {Status::Permanent, "the record has no " + options_.key_field + " to match contacts on", {}};
      }
      request.method = "POST";
      request.target = "/crm/v3/objects/contacts/batch/upsert";
      std::string escaped;
      for (char c : id) {
        if (c == '"' || c == '\\') escaped += '\\';
        escaped += c;
      }
      request.body = R"({"inputs":[{"idProperty":")" + options_.key_field + R"(","id":")" + escaped +
                     R"(","properties":)" + record + "}]}";
      break;
    }
  }
  http::Response response;
  DeliveryResult failure;
  if (!send_authorized(std::move(request), base, response, failure)) return failure;
  return judge(response);
}

bool CrmSink::send_authorized(http::Request request, const std::string& base, http::Response& response,
                              DeliveryResult& failure) {
  http::Url url;
  std::string error;
  if (!http::Url::parse(base, url, error)) {
    failure = {Status::Permanent, error, {}};
    return false;
  }
  request.target = (url.target == "/" ? "" : url.target) + request.target;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string bearer;
    if (!token(bearer, failure)) return false;
    auto sent = request;
    sent.headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!client_.send(url, sent, response, error)) {
      failure = {Status::Retry, error, {}};
      return false;
    }
    // HubSpot's private-app token cannot be renewed: its 401 is an answer (a dead letter, replayed once fixed).
    if (response.status != 401 || options_.kind == CrmKind::HubSpot) return true;
    access_token_.clear();  // expired or revoked: one new token, one more try
  }
  failure = {Status::Retry, crm_message(response) + " (twice, with a fresh token: check the app's rights)", {}};
  return false;
}

std::vector<DeliveryResult> CrmSink::deliver_batch(std::span<const DeliveryItem> items) {
  if (options_.kind != CrmKind::Salesforce || options_.batch_size <= 1) return Sink::deliver_batch(items);
  if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
  // sObject collections upsert: one request, one result per record in order (allOrNone false).
  std::vector<DeliveryResult> out(items.size());
  std::string body = R"({"allOrNone":false,"records":[)";
  std::vector<std::size_t> sent;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string record;
    std::string error;
    if (!build_record(items[i].lead_json, options_.fields, record, error)) {
      out[i] = {Status::Permanent, error, {}};
      continue;
    }
    if (!sent.empty()) body += ',';
    body += R"({"attributes":{"type":"Lead"},")" + options_.key_field + R"(":")" + items[i].lead_id + '"';
    if (record.size() > 2) body += "," + record.substr(1, record.size() - 2);
    body += '}';
    sent.push_back(i);
  }
  body += "]}";
  if (sent.empty()) return out;
  http::Request request;
  request.method = "PATCH";
  request.target = "/services/data/" + options_.api_version + "/composite/sobjects/Lead/" + options_.key_field;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = std::move(body);
  http::Response response;
  DeliveryResult failure;
  const bool answered = send_authorized(request, instance_url_.empty() ? options_.url : instance_url_, response, failure);
  if (answered) failure = judge(response);
  rapidjson::Document d;
  if (answered && failure.status == Status::Ok) {
    d.Parse(response.body.data(), response.body.size());
    if (d.HasParseError() || !d.IsArray() || d.Size() != sent.size()) {
      failure = {Status::Retry, "HTTP " + std::to_string(response.status) + ": not one result per record", {}};
    }
  }
  if (failure.status != Status::Ok) {
    for (auto i : sent) out[i] = failure;
    return out;
  }
  for (std::size_t k = 0; k < sent.size(); ++k) {
    const auto& r = d[static_cast<rapidjson::SizeType>(k)];
    if (r.IsObject() && r.HasMember("success") && r["success"].IsBool() && r["success"].GetBool()) continue;
    std::string code, message;
    if (r.IsObject() && r.HasMember("errors") && r["errors"].IsArray() && !r["errors"].Empty()) {
      const auto& e = r["errors"][0];
      if (e.HasMember("statusCode") && e["statusCode"].IsString()) code = e["statusCode"].GetString();
      if (e.HasMember("message") && e["message"].IsString()) message = e["message"].GetString();
    }
    const bool transient = code == "UNABLE_TO_LOCK_ROW" || code == "REQUEST_LIMIT_EXCEEDED";
    out[sent[k]] = {transient ? Status::Retry : Status::Permanent, code + ": " + message, {}};
  }
  return out;
}

DeliveryResult CrmSink::deliver(const DeliveryItem& item) {
  if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
  std::string record;
  std::string error;
  if (!build_record(item.lead_json, options_.fields, record, error)) return {Status::Permanent, error, {}};
  return attempt(item, record);
}

}  // namespace leadrelay::connectors::crm
