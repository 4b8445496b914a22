// Dynamics 365 (Dataverse Web API v9.2): one PATCH per lead to the entity set addressed by its alternate key,
// which creates the record or updates the one an earlier try created; a lifecycle change PATCHes statecode and
// statuscode there with If-Match: * (update only). Throttling is 429 with Retry-After (the
// common reading); errors come as {"error":{"code","message"}}.
#include "connectors/crm/crm_sink.hpp"

namespace leadrelay::connectors::crm {
namespace {

class DynamicsSink final : public CrmSink {
 public:
  explicit DynamicsSink(const CrmOptions& options) : CrmSink(options) {}

 private:
  DeliveryResult upsert(const DeliveryItem& item, const std::string& record) override {
    http::Request request;
    request.method = "PATCH";
    request.target = "/api/data/v9.2/" + options_.entity + "(" + options_.key_field + "='" + item.lead_id + "')";
    request.headers = {{"OData-Version", "4.0"}, {"OData-MaxVersion", "4.0"}};
    request.body = record;
    return send_judged(std::move(request), options_.url);
  }
  // The same address with If-Match: * : Dataverse updates the record and never creates one (404 when none).
  DeliveryResult update_status(const DeliveryItem& item, const std::string& fields) override {
    http::Request request;
    request.method = "PATCH";
    request.target = "/api/data/v9.2/" + options_.entity + "(" + options_.key_field + "='" + item.lead_id + "')";
    request.headers = {{"OData-Version", "4.0"}, {"OData-MaxVersion", "4.0"}, {"If-Match", "*"}};
    request.body = fields;
    return send_judged(std::move(request), options_.url);
  }
  // DELETE of the record by its alternate key.
  DeliveryResult erase(const DeliveryItem& item) override {
    http::Request request;
    request.method = "DELETE";
    request.target = "/api/data/v9.2/" + options_.entity + "(" + options_.key_field + "='" + item.lead_id + "')";
    request.headers = {{"OData-Version", "4.0"}, {"OData-MaxVersion", "4.0"}};
    return send_delete(std::move(request), options_.url);
  }
};

}  // namespace

std::unique_ptr<CrmSink> make_dynamics_sink(const CrmOptions& options) {
  return std::make_unique<DynamicsSink>(options);
}

}  // namespace leadrelay::connectors::crm
