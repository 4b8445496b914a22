#include "connectors/crm/crm_sink.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <thread>

#include "daemon/log/log.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::connectors::crm {
namespace {
using Status = DeliveryResult::Status;

std::string form_encode(std::string_view s) { return util::url_encode(s); }

// expires_in as the number RFC 6749 says or the string some servers send; absent or unreadable: the default.
std::chrono::seconds token_lifetime(const rapidjson::Value& answer, std::chrono::seconds fallback) {
  const auto it = answer.FindMember("expires_in");
  if (it == answer.MemberEnd()) return fallback;
  const long long cap = kMaxTokenLifetime.count();
  long long seconds = 0;
  if (it->value.IsInt64()) {
    seconds = it->value.GetInt64();
  } else if (it->value.IsUint64()) {
    seconds = cap;  // past int64: far beyond the cap
  } else if (it->value.IsString()) {
    const auto text = util::trim(std::string_view(it->value.GetString(), it->value.GetStringLength()));
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return fallback;
    unsigned long long parsed = 0;
    // Digits past 64 bits are beyond the cap too.
    seconds = util::parse_u64(text, parsed) ? static_cast<long long>(std::min<unsigned long long>(parsed, cap)) : cap;
  } else {
    return fallback;
  }
  return std::chrono::seconds(std::clamp<long long>(seconds, 0, cap));
}

}  // namespace

bool read_token_answer(const http::Response& response, TokenAnswer& out, DeliveryResult& failure) {
  rapidjson::Document d;
  d.Parse(response.body.data(), response.body.size());
  if (response.status != 200 || d.HasParseError() || !d.IsObject() || !d.HasMember("access_token") ||
      !d["access_token"].IsString()) {
    failure = {Status::Retry, "token endpoint: " + crm_message(response), http::retry_after(response)};
    return false;
  }
  out.access_token = d["access_token"].GetString();
  if (d.HasMember("instance_url") && d["instance_url"].IsString()) out.instance_url = d["instance_url"].GetString();
  // Entra tokens say how long they last; Salesforce's do not (session timeout): keep until a 401.
  out.lifetime = token_lifetime(d, std::chrono::seconds(7200));
  return true;
}

std::string crm_message(const http::Response& response) {
  rapidjson::Document d;
  d.Parse(response.body.data(), response.body.size());
  std::string text;
  if (!d.HasParseError()) {
    const rapidjson::Value* v = &d;
    if (d.IsArray() && !d.Empty()) v = &d[0];
    if (v->IsObject() && v->HasMember("error") && (*v)["error"].IsObject()) v = &(*v)["error"];
    if (v->IsObject()) {
      // OAuth2 errors ({"error": "invalid_grant", "error_description"}) and Partner Center's ({"code": 429,
      // "description"}) read the same way.
      for (const char* code : {"errorCode", "code", "category", "error"}) {
        if (v->HasMember(code) && (*v)[code].IsString()) text += std::string((*v)[code].GetString()) + ": ";
      }
      for (const char* message : {"message", "description", "error_description"}) {
        if (v->HasMember(message) && (*v)[message].IsString()) {
          text += (*v)[message].GetString();
          break;
        }
      }
    }
  }
  if (text.empty()) text = response.body.substr(0, 300);
  return "HTTP " + std::to_string(response.status) + (text.empty() ? "" : ": " + text);
}

CrmSink::CrmSink(const CrmOptions& options)
    : options_(options),
      client_({options.tls_verify, options.ca_file, options.connect_timeout, options.request_timeout}) {}

bool CrmSink::token(std::string& out, DeliveryResult& failure) {
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
  TokenAnswer answer;
  // A refused client is retried (the breaker slows it down) and the log says why.
  if (!read_token_answer(response, answer, failure)) return false;
  access_token_ = std::move(answer.access_token);
  if (!answer.instance_url.empty()) instance_url_ = std::move(answer.instance_url);
  const auto lifetime = answer.lifetime;
  token_expires_ = answer.renew_at();
  log::info("crm_token", {{"lifetime_s", static_cast<std::int64_t>(lifetime.count())}});
  out = access_token_;
  return true;
}

DeliveryResult CrmSink::judge(const http::Response& response) {
  const auto s = response.status;
  if (s >= 200 && s < 300) return {};
  if (s == 408 || s == 425 || s == 429 || s >= 500) {
    return {Status::Retry, crm_message(response), http::retry_after(response)};
  }
  return {Status::Permanent, crm_message(response), {}};
}

bool CrmSink::send_authorized(http::Request request, const std::string& base, http::Response& response,
                              DeliveryResult& failure) {
  const auto target = std::move(request.target);
  for (int attempt = 0; attempt < 2; ++attempt) {
    // The token comes first: its answer may say where the API lives (Salesforce's instance, not its login host).
    std::string bearer;
    if (!token(bearer, failure)) return false;
    http::Url url;
    std::string error;
    if (!http::Url::parse(instance_url_.empty() ? base : instance_url_, url, error)) {
      failure = {Status::Permanent, error, {}};
      return false;
    }
    auto sent = request;
    sent.target = (url.target == "/" ? "" : url.target) + target;
    sent.headers.emplace_back("Authorization", "Bearer " + bearer);
    if (!client_.send(url, sent, response, error)) {
      failure = {Status::Retry, error, {}};
      return false;
    }
    // A token that cannot be renewed (HubSpot's private app) makes its 401 an answer: a dead letter, replayed
    // once fixed.
    if (response.status != 401 || !renews_token()) return true;
    access_token_.clear();  // expired or revoked: one new token, one more try
  }
  failure = {Status::Retry, crm_message(response) + " (twice, with a fresh token: check the app's rights)", {}};
  return false;
}

DeliveryResult CrmSink::send_judged(http::Request request, const std::string& base) {
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  http::Response response;
  DeliveryResult failure;
  if (!send_authorized(std::move(request), base, response, failure)) return failure;
  return judge(response);
}

DeliveryResult CrmSink::send_delete(http::Request request, const std::string& base) {
  request.headers.emplace_back("Accept", "application/json");
  if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  http::Response response;
  DeliveryResult failure;
  if (!send_authorized(std::move(request), base, response, failure)) return failure;
  if ((response.status >= 200 && response.status < 300) || response.status == 404) return {};
  return CrmSink::judge(response);
}

void CrmSink::pace() const {
  if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
}

bool status_fields(std::string_view event_json, const StatusMap& statuses, std::string& fields_json) {
  rapidjson::Document d;
  d.Parse(event_json.data(), event_json.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("to_status") || !d["to_status"].IsString()) return false;
  const std::string_view to = d["to_status"].GetString();
  fields_json.clear();
  for (const auto& [status, fields] : statuses) {
    if (status != to || fields.empty()) continue;
    fields_json = "{";
    for (const auto& [field, value] : fields) {
      if (fields_json.size() > 1) fields_json += ',';
      fields_json += util::json_quote(field) + ":";
      const bool number = !value.empty() && value.size() < 16 &&
                          value.find_first_not_of("0123456789") == std::string::npos;
      fields_json += number || value == "true" || value == "false" ? value : util::json_quote(value);
    }
    fields_json += "}";
  }
  return true;
}

DeliveryResult CrmSink::deliver(const DeliveryItem& item) {
  pace();
  std::string record;
  std::string error;
  if (item.event) {
    // lead-event.v1 as leadrelay writes it (compact): an erasure deletes the record instead of updating it.
    if (item.lead_json.find(R"("action":"erase")") != std::string::npos) return erase(item);
    if (!status_fields(item.lead_json, options_.statuses, record)) {
      return {Status::Permanent, "not a lead-event.v1 document", {}};
    }
    if (record.empty()) return {};  // this status sets nothing on the record
    return update_status(item, record);
  }
  if (!build_record(item.lead_json, options_.fields, record, error)) return {Status::Permanent, error, {}};
  return upsert(item, record);
}

std::unique_ptr<CrmSink> make_crm_sink(const CrmOptions& options) {
  switch (options.kind) {
    case CrmKind::Dynamics: return make_dynamics_sink(options);
    case CrmKind::Salesforce: return make_salesforce_sink(options);
    case CrmKind::HubSpot: return make_hubspot_sink(options);
  }
  return nullptr;
}

}  // namespace leadrelay::connectors::crm
