// HubSpot (CRM v3): contacts upserted by idProperty through the batch upsert endpoint, one contact per request,
// with the private app's token (not renewable: its 401 is an answer). A 2xx is read further: 207, or an "errors"
// list, means the input was refused; an answer without "results" is retried.
#include "connectors/crm/crm_sink.hpp"

#include <rapidjson/document.h>

#include "daemon/util/strings.hpp"

namespace leadrelay::connectors::crm {
namespace {
using Status = DeliveryResult::Status;

class HubSpotSink final : public CrmSink {
 public:
  explicit HubSpotSink(const CrmOptions& options) : CrmSink(options) {}

  DeliveryResult judge(const http::Response& response) override {
    const auto s = response.status;
    if (s < 200 || s >= 300) return CrmSink::judge(response);
    rapidjson::Document d;
    d.Parse(response.body.data(), response.body.size());
    if (s == 207 || (d.IsObject() && d.HasMember("errors") && d["errors"].IsArray() && !d["errors"].Empty())) {
      return {Status::Permanent, crm_message(response), {}};
    }
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("results")) {
      return {Status::Retry, "HTTP " + std::to_string(s) + ": an answer without results", {}};
    }
    return {};
  }

 private:
  bool token(std::string& out, DeliveryResult&) override {
    out = options_.token;
    return true;
  }
  bool renews_token() const override { return false; }

  DeliveryResult upsert(const DeliveryItem&, const std::string& record) override {
    const auto id = lead_value(record, options_.key_field);
    if (id.empty()) return {Status::Permanent, "the record has no " + options_.key_field + " to match contacts on", {}};
    std::string escaped;
    for (char c : id) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    http::Request request;
    request.method = "POST";
    request.target = "/crm/v3/objects/contacts/batch/upsert";
    request.body = R"({"inputs":[{"idProperty":")" + options_.key_field + R"(","id":")" + escaped +
                   R"(","properties":)" + record + "}]}";
    return send_judged(std::move(request), options_.url);
  }

  // The batch update endpoint (never creates a contact), matched on the lead's message key: its normalized email.
  DeliveryResult update_status(const DeliveryItem& item, const std::string& fields) override {
    if (options_.key_field != "email" || item.key.find('@') == std::string::npos) {
      return {Status::Permanent, "status updates match HubSpot contacts on email; this lead has none", {}};
    }
    http::Request request;
    request.method = "POST";
    request.target = "/crm/v3/objects/contacts/batch/update";
    request.body = R"({"inputs":[{"idProperty":"email","id":)" + util::json_quote(item.key) + R"(,"properties":)" +
                   fields + "}]}";
    return send_judged(std::move(request), options_.url);
  }

  // The GDPR delete endpoint (it also blocks the address from being re-created by forms), by email: the erasure's
  // delivery to HubSpot is keyed with it (leads::Changes::erase), and the key is cleared once HubSpot has answered.
  DeliveryResult erase(const DeliveryItem& item) override {
    if (options_.key_field != "email" || item.key.find('@') == std::string::npos) {
      return {Status::Permanent, "HubSpot erasures find the contact by email; this lead has none (delete it in HubSpot)",
              {}};
    }
    http::Request request;
    request.method = "POST";
    request.target = "/crm/v3/objects/contacts/gdpr-delete";
    request.body = R"({"objectId":)" + util::json_quote(item.key) + R"(,"idProperty":"email"})";
    return send_delete(std::move(request), options_.url);
  }
};

}  // namespace

std::unique_ptr<CrmSink> make_hubspot_sink(const CrmOptions& options) {
  return std::make_unique<HubSpotSink>(options);
}

}  // namespace leadrelay::connectors::crm
