#pragma once
// The CRM sinks: each lead is upserted by a key that is leadrelay's lead id (Dynamics: alternate key;
// Salesforce: external-ID field) or the contact's email (HubSpot idProperty), so a retry or a replay updates the
// record it created instead of making a second one. What the three share lives in CrmSink: the field map,
// OAuth2 client-credentials tokens (cached until they expire, fetched again once on a 401), the request with
// a bearer token, and the common reading of an answer (2xx done; 408/425/429/5xx retried with Retry-After;
// the rest permanent, in the CRM's own words). Each CRM's own file says how it upserts, batches and answers:
// dynamics.cpp (Dataverse Web API), salesforce.cpp (REST API, sObject collections), hubspot.cpp (CRM v3 batch).
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "connectors/crm/crm_config.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/sinks/sink.hpp"

namespace leadrelay::connectors::crm {

// What a token endpoint's 200 answer says (RFC 6749 §5.1; Salesforce adds instance_url).
struct TokenAnswer {
  std::string access_token;
  std::string instance_url;
  std::chrono::seconds lifetime{7200};  // expires_in, within [0, kMaxTokenLifetime]; Salesforce's: until a 401
  // When to fetch the next one: a tenth of the lifetime (at most a minute) before it ends.
  std::chrono::steady_clock::time_point renew_at() const {
    return std::chrono::steady_clock::now() + lifetime -
           std::min<std::chrono::seconds>(lifetime / 10, std::chrono::seconds(60));
  }
};
inline constexpr std::chrono::seconds kMaxTokenLifetime{24 * 3600};

// Reads a token endpoint's answer; false with a result to return (a retry: a refused client is a
// configuration problem that leads must not be dropped for).
bool read_token_answer(const http::Response& response, TokenAnswer& out, DeliveryResult& failure);

// The service's own words from an error answer: Dataverse {"error":{"message"}}, Salesforce [{"message","errorCode"}],
// HubSpot {"message"}, OAuth2 {"error","error_description"}, Partner Center {"code","description"}; else the body's
// start.
std::string crm_message(const http::Response& response);

class CrmSink : public Sink {
 public:
  DeliveryResult deliver(const DeliveryItem& item) override;
  // How this CRM's answer to an upsert is judged (public for the response fuzz target and tests).
  virtual DeliveryResult judge(const http::Response& response);

 protected:
  explicit CrmSink(const CrmOptions& options);
  // Sends this CRM's upsert of one record (the lead mapped by the field map) and judges the answer.
  virtual DeliveryResult upsert(const DeliveryItem& item, const std::string& record) = 0;
  // Sends a lifecycle change as an update of the record an upsert made (never a new record): `fields` is the
  // status map's entry as a JSON object.
  virtual DeliveryResult update_status(const DeliveryItem& item, const std::string& fields) = 0;
  // The person asked to be erased (a lead-event.v1 with action erase): deletes the record an upsert made, or
  // anonymises it where the CRM has no delete. A record that is not there (404) is gone already.
  virtual DeliveryResult erase(const DeliveryItem& item) = 0;
  // send_authorized for a delete: any 2xx, and 404, is done; anything else is judged as an upsert's answer.
  DeliveryResult send_delete(http::Request request, const std::string& base);
  // A bearer token, from the cache or the token endpoint; false with a result to return.
  virtual bool token(std::string& out, DeliveryResult& failure);
  // A 401 with a renewable token gets one new token and one more try.
  virtual bool renews_token() const { return true; }
  // Sends one request to `base` (or the instance the token answer named) + its target with a bearer token,
  // renewing the token once on a 401.
  bool send_authorized(http::Request request, const std::string& base, http::Response& response,
                       DeliveryResult& failure);
  // send_authorized, then this CRM's judgement of the answer.
  DeliveryResult send_judged(http::Request request, const std::string& base);
  // Waits when the CRM asked leadrelay to slow down (Salesforce near its daily allowance).
  void pace() const;

  const CrmOptions options_;
  std::chrono::milliseconds pause_{0};  // between requests, while the CRM asks for it

 private:
  http::Client client_;
  std::string instance_url_;  // where the API lives when the token answer says (Salesforce)
  std::string access_token_;
  std::chrono::steady_clock::time_point token_expires_{};
};

std::unique_ptr<CrmSink> make_dynamics_sink(const CrmOptions& options);
std::unique_ptr<CrmSink> make_salesforce_sink(const CrmOptions& options);
std::unique_ptr<CrmSink> make_hubspot_sink(const CrmOptions& options);
// The sink for options.kind: the one place that chooses by CRM kind.
std::unique_ptr<CrmSink> make_crm_sink(const CrmOptions& options);

// Salesforce sObject collections: one result per record sent, in order (for the response fuzz target and tests);
// false when the answer is not one result per record.
// The status update of a lead-event.v1 value: the fields its to_status maps to, as a JSON object (numbers and
// true/false as such, the rest as strings); empty when that status maps to nothing. False when `event_json` is
// not a lead event.
bool status_fields(std::string_view event_json, const StatusMap& statuses, std::string& fields_json);

bool salesforce_collection_results(const http::Response& response, std::size_t records,
                                   std::vector<DeliveryResult>& out);

}  // namespace leadrelay::connectors::crm
