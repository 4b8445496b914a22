#include "daemon/model/lead.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/log/log.hpp"
#include "daemon/util/json_write.hpp"

namespace leadrelay::model {

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::AzureMarketplace: return "AzureMarketplace";
    case Origin::AzurePortal: return "AzurePortal";
    case Origin::AppSource: return "AppSource";
    case Origin::TestDrive: return "TestDrive";
    case Origin::Unknown: return "Unknown";
  }
  return "Unknown";
}

std::string_view to_string(CallToAction cta) {
  switch (cta) {
    case CallToAction::GetItNowOrFreeTrial: return "GetItNowOrFreeTrial";
    case CallToAction::ContactMe: return "ContactMe";
    case CallToAction::None: return "None";
    case CallToAction::GetItNow: return "GetItNow";
    case CallToAction::TestDrive: return "TestDrive";
    case CallToAction::Unknown: return "Unknown";
  }
  return "Unknown";
}

namespace {
using util::json::boolean;
using util::json::optional;
using util::json::string;
using util::json::Writer;
// The validation members, shared by lead.v1 and `leadrelay validate`.
void write_strings(Writer& w, std::string_view key, const std::vector<std::string>& items) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartArray();
  for (const auto& s : items) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}

void write_verdicts(Writer& w, const EmailCheck& email, const PhoneCheck& phone, std::string_view quality,
                    const std::vector<std::string>& quality_reasons) {
  w.Key("email_check");
  w.StartObject();
  string(w, "verdict", email.verdict);
  optional(w, "normalized", email.normalized);
  optional(w, "domain", email.domain);
  write_strings(w, "reasons", email.reasons);
  boolean(w, "role_mailbox", email.role_mailbox);
  boolean(w, "free_mail", email.free_mail);
  w.EndObject();
  w.Key("phone_check");
  w.StartObject();
  string(w, "verdict", phone.verdict);
  optional(w, "e164", phone.e164);
  optional(w, "extension", phone.extension);
  optional(w, "type", phone.type);
  optional(w, "region", phone.region);
  write_strings(w, "reasons", phone.reasons);
  w.EndObject();
  string(w, "quality", quality);
  write_strings(w, "quality_reasons", quality_reasons);
}

}  // namespace

std::string to_json(const Lead& lead) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  string(w, "schema", kLeadSchema);
  string(w, "lead_id", lead.lead_id);
  string(w, "received_at", log::format_utc_ms(lead.received_at_ms));
  w.Key("source");
  w.StartObject();
  string(w, "name", lead.source_name);
  string(w, "format", lead.format);
  w.EndObject();
  string(w, "origin", to_string(lead.origin));
  optional(w, "lead_source_raw", lead.lead_source_raw);
  w.Key("action");
  w.StartObject();
  optional(w, "code", lead.action.code);
  string(w, "call_to_action", to_string(lead.action.call_to_action));
  boolean(w, "partner_action_required", lead.action.partner_action_required);
  boolean(w, "do_not_contact", lead.action.do_not_contact);
  boolean(w, "customer_requested_contact", lead.customer_requested_contact);
  w.EndObject();
  string(w, "lead_type", to_string(lead.lead_type));
  string(w, "classification", to_string(lead.classification));
  optional(w, "program", lead.program);
  w.Key("offer");
  w.StartObject();
  optional(w, "id", lead.offer.id);
  optional(w, "publisher_id", lead.offer.publisher_id);
  optional(w, "offer_id", lead.offer.offer_id);
  optional(w, "title", lead.offer.title);
  w.EndObject();
  w.Key("contact");
  w.StartObject();
  optional(w, "first_name", lead.contact.first_name);
  optional(w, "last_name", lead.contact.last_name);
  optional(w, "email", lead.contact.email);
  optional(w, "phone", lead.contact.phone);
  optional(w, "company", lead.contact.company);
  optional(w, "title", lead.contact.title);
  optional(w, "country", lead.contact.country);
  optional(w, "country_raw", lead.contact.country_raw);
  w.EndObject();
  optional(w, "description", lead.description);
  boolean(w, "test_lead", lead.test_lead);
  boolean(w, "contactable", lead.contactable);
  optional(w, "duplicate_of", lead.duplicate_of);
  w.Key("occurrence");
  w.Int(lead.occurrence);
  w.Key("action_history");
  w.StartArray();
  for (const auto& a : lead.action_history) w.String(a.data(), static_cast<rapidjson::SizeType>(a.size()));
  w.EndArray();
  write_verdicts(w, lead.email_check, lead.phone_check, lead.quality, lead.quality_reasons);
  w.Key("partner_center");
  if (lead.referral.id.empty()) {
    w.Null();
  } else {
    const auto& r = lead.referral;
    w.StartObject();
    string(w, "referral_id", r.id);
    optional(w, "engagement_id", r.engagement_id);
    optional(w, "name", r.name);
    optional(w, "etag", r.etag);
    optional(w, "external_reference_id", r.external_reference_id);
    optional(w, "status", r.status);
    optional(w, "substatus", r.substatus);
    optional(w, "qualification", r.qualification);
    optional(w, "type", r.type);
    optional(w, "company_size", r.company_size);
    optional(w, "call_to_action", r.call_to_action);
    optional(w, "updated_at", r.updated_at);
    optional(w, "status_reason", r.status_reason);
    optional(w, "closing_date", r.closing_date);
    w.Key("deal_value");
    if (r.deal_value) {
      w.Double(*r.deal_value);
    } else {
      w.Null();
    }
    optional(w, "currency", r.currency);
    w.Key("requirements");
    w.StartObject();
    write_strings(w, "products", r.products);
    write_strings(w, "services", r.services);
    write_strings(w, "industries", r.industries);
    w.EndObject();
    boolean(w, "consent_to_contact", r.consent_to_contact);
    boolean(w, "consent_to_share", r.consent_to_share);
    boolean(w, "customer_requested_contact", r.customer_requested_contact);
    w.EndObject();
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string verdicts_to_json(const EmailCheck& email, const PhoneCheck& phone, std::string_view quality,
                             const std::vector<std::string>& quality_reasons) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_verdicts(w, email, phone, quality, quality_reasons);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace leadrelay::model
