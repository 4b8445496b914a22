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

DeliveryResult CrmSink::attempt(const DeliveryItem& item, const std::string& record, bool& unauthorized) {
  unauthorized = false;
  std::string bearer;
  DeliveryResult failure;
  if (!token(bearer, failure)) return failure;
  std::string base = options_.url;
  http::Request request;
  request.headers = {{"Authorization", "Bearer " + bearer}, {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
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
  http::Url url;
  std::string error;
  if (!http::Url::parse(base, url, error)) return {Status::Permanent, error, {}};
  request.target = (url.target == "/" ? "" : url.target) + request.target;
  http::Response response;
  if (!client_.send(url, request, response, error)) return {Status::Retry, error, {}};
  if (response.status == 401 && options_.kind != CrmKind::HubSpot) {
    unauthorized = true;
    access_token_.clear();
  }
  return judge(response);
}

DeliveryResult CrmSink::deliver(const DeliveryItem& item) {
  if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
  std::string record;
  std::string error;
  if (!build_record(item.lead_json, options_.fields, record, error)) return {Status::Permanent, error, {}};
  bool unauthorized = false;
  auto result = attempt(item, record, unauthorized);
  // An expired or revoked token: fetch a new one and try once more; a second 401 is the CRM's answer.
  if (unauthorized) result = attempt(item, record, unauthorized);
  if (unauthorized) result.status = Status::Retry;  // the app user lost its rights: keep the lead, say it loudly
  return result;
}

}  // namespace leadrelay::connectors::crm
