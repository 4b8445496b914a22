// Salesforce (REST API): a PATCH by external-ID field per lead, or sObject collections upserts of up to
// batch_size records with one result per record (allOrNone false). Its answers: 300 when several records share
// the key (permanent: the admin merges them), 403 REQUEST_LIMIT_EXCEEDED when the daily allowance is used up
// (a retry, not an auth failure), and Sforce-Limit-Info (api-usage=used/limit), past slow_down_at of which the
// sink spaces its requests out instead of hitting the wall. The REST API lives at the token answer's instance_url.
#include "connectors/crm/crm_sink.hpp"

#include <rapidjson/document.h>

#include <cstdlib>

namespace leadrelay::connectors::crm {
namespace {
using Status = DeliveryResult::Status;

class SalesforceSink final : public CrmSink {
 public:
  explicit SalesforceSink(const CrmOptions& options) : CrmSink(options) {}

  std::size_t max_batch() const override { return options_.batch_size; }

  DeliveryResult judge(const http::Response& response) override {
    if (const auto it = response.headers.find("sforce-limit-info"); it != response.headers.end()) {
      const auto eq = it->second.find("api-usage=");
      const auto slash = it->second.find('/', eq);
      if (eq != std::string::npos && slash != std::string::npos) {
        const double used = std::strtod(it->second.c_str() + eq + 10, nullptr);
        const double limit = std::strtod(it->second.c_str() + slash + 1, nullptr);
        pause_ = limit > 0 && used / limit >= options_.slow_down_at ? std::chrono::milliseconds(1000)
                                                                    : std::chrono::milliseconds(0);
      }
    }
    const auto s = response.status;
    if (s == 300) {
      return {Status::Permanent, "HTTP 300: several Lead records have this " + options_.key_field +
                                     "; make the field unique, merge the records, then replay", {}};
    }
    if (s == 403 && response.body.find("REQUEST_LIMIT_EXCEEDED") != std::string::npos) {
      // The daily allowance is used up: throttling; the backoff grows to max_backoff.
      return {Status::Retry, crm_message(response), http::retry_after(response)};
    }
    return CrmSink::judge(response);
  }

  std::vector<DeliveryResult> deliver_batch(std::span<const DeliveryItem> items) override;

 private:
  DeliveryResult upsert(const DeliveryItem& item, const std::string& record) override {
    http::Request request;
    request.method = "PATCH";
    request.target =
        "/services/data/" + options_.api_version + "/sobjects/Lead/" + options_.key_field + "/" + item.lead_id;
    request.body = record;
    return send_judged(std::move(request), options_.url);
  }
  // The same PATCH by external ID with the status fields alone: the record exists, so only they change.
  DeliveryResult update_status(const DeliveryItem& item, const std::string& fields) override {
    return upsert(item, fields);
  }
  // DELETE of the Lead by its external ID.
  DeliveryResult erase(const DeliveryItem& item) override {
    http::Request request;
    request.method = "DELETE";
    request.target =
        "/services/data/" + options_.api_version + "/sobjects/Lead/" + options_.key_field + "/" + item.lead_id;
    return send_delete(std::move(request), options_.url);
  }
};

std::vector<DeliveryResult> SalesforceSink::deliver_batch(std::span<const DeliveryItem> items) {
  if (options_.batch_size <= 1) return Sink::deliver_batch(items);
  pace();
  std::vector<DeliveryResult> out(items.size());
  std::string body = R"({"allOrNone":false,"records":[)";
  std::vector<std::size_t> sent;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].event) {  // status updates go one by one (after the records of earlier items in this batch)
      continue;
    }
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
  const auto events = [&] {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].event) out[i] = deliver(items[i]);
    }
    return out;
  };
  if (sent.empty()) return events();
  http::Request request;
  request.method = "PATCH";
  request.target = "/services/data/" + options_.api_version + "/composite/sobjects/Lead/" + options_.key_field;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = std::move(body);
  http::Response response;
  DeliveryResult failure;
  const bool answered = send_authorized(std::move(request), options_.url, response, failure);
  if (answered) failure = judge(response);
  std::vector<DeliveryResult> results;
  if (failure.status == Status::Ok && !salesforce_collection_results(response, sent.size(), results)) {
    failure = {Status::Retry, "HTTP " + std::to_string(response.status) + ": not one result per record", {}};
  }
  for (std::size_t k = 0; k < sent.size(); ++k) out[sent[k]] = failure.status == Status::Ok ? results[k] : failure;
  return events();
}

}  // namespace

bool salesforce_collection_results(const http::Response& response, std::size_t records,
                                   std::vector<DeliveryResult>& out) {
  rapidjson::Document d;
  d.Parse(response.body.data(), response.body.size());
  if (d.HasParseError() || !d.IsArray() || d.Size() != records) return false;
  out.assign(records, DeliveryResult{});
  for (std::size_t k = 0; k < records; ++k) {
    const auto& r = d[static_cast<rapidjson::SizeType>(k)];
    if (r.IsObject() && r.HasMember("success") && r["success"].IsBool() && r["success"].GetBool()) continue;
    std::string code, message;
    if (r.IsObject() && r.HasMember("errors") && r["errors"].IsArray() && !r["errors"].Empty()) {
      const auto& e = r["errors"][0];
      if (e.IsObject() && e.HasMember("statusCode") && e["statusCode"].IsString()) code = e["statusCode"].GetString();
      if (e.IsObject() && e.HasMember("message") && e["message"].IsString()) message = e["message"].GetString();
    }
    const bool transient = code == "UNABLE_TO_LOCK_ROW" || code == "REQUEST_LIMIT_EXCEEDED";
    out[k] = {transient ? Status::Retry : Status::Permanent, code + ": " + message, {}};
  }
  return true;
}

std::unique_ptr<CrmSink> make_salesforce_sink(const CrmOptions& options) {
  return std::make_unique<SalesforceSink>(options);
}

}  // namespace leadrelay::connectors::crm
