#include <rapidjson/document.h>

#include "daemon/model/lead.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::model {
namespace {

std::string get_string(const rapidjson::Value& obj, const char* key) {
  const auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool get_bool(const rapidjson::Value& obj, const char* key) {
  const auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

const rapidjson::Value* get_object(const rapidjson::Value& obj, const char* key) {
  const auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

void get_strings(const rapidjson::Value& object, const char* key, std::vector<std::string>& out) {
  if (const auto it = object.FindMember(key); it != object.MemberEnd() && it->value.IsArray()) {
    for (const auto& a : it->value.GetArray()) {
      if (a.IsString()) out.emplace_back(a.GetString(), a.GetStringLength());
    }
  }
}

}  // namespace

bool parse_origin_name(std::string_view name, Origin& out) {
  for (auto o : {Origin::AzureMarketplace, Origin::AzurePortal, Origin::AppSource, Origin::TestDrive, Origin::Unknown}) {
    if (to_string(o) == name) {
      out = o;
      return true;
    }
  }
  return false;
}

bool parse_call_to_action_name(std::string_view name, CallToAction& out) {
  for (auto c : {CallToAction::GetItNowOrFreeTrial, CallToAction::ContactMe, CallToAction::None,
                 CallToAction::GetItNow, CallToAction::TestDrive, CallToAction::Unknown}) {
    if (to_string(c) == name) {
      out = c;
      return true;
    }
  }
  return false;
}

bool from_json(std::string_view json, Lead& lead, std::string& error) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject() || get_string(d, "schema") != kLeadSchema) {
    error = "not a lead.v1 document";
    return false;
  }
  lead = Lead{};
  lead.lead_id = get_string(d, "lead_id");
  if (!util::parse_utc_ms(get_string(d, "received_at"), lead.received_at_ms)) {
    error = "lead.v1 document without a valid received_at";
    return false;
  }
  if (const auto* s = get_object(d, "source")) {
    lead.source_name = get_string(*s, "name");
    lead.format = get_string(*s, "format");
  }
  parse_origin_name(get_string(d, "origin"), lead.origin);
  lead.lead_source_raw = get_string(d, "lead_source_raw");
  if (const auto* a = get_object(d, "action")) {
    lead.action.code = get_string(*a, "code");
    parse_call_to_action_name(get_string(*a, "call_to_action"), lead.action.call_to_action);
    lead.action.partner_action_required = get_bool(*a, "partner_action_required");
    lead.action.do_not_contact = get_bool(*a, "do_not_contact");
    lead.customer_requested_contact = get_bool(*a, "customer_requested_contact");
  }
  parse_lead_type(get_string(d, "lead_type"), lead.lead_type);
  parse_classification(get_string(d, "classification"), lead.classification);
  lead.program = get_string(d, "program");
  if (const auto* o = get_object(d, "offer")) {
    lead.offer = {get_string(*o, "id"), get_string(*o, "publisher_id"), get_string(*o, "offer_id"),
                  get_string(*o, "title")};
  }
  if (const auto* c = get_object(d, "contact")) {
    lead.contact = {get_string(*c, "first_name"), get_string(*c, "last_name"), get_string(*c, "email"),
                    get_string(*c, "phone"),      get_string(*c, "company"),   get_string(*c, "title"),
                    get_string(*c, "country"),    get_string(*c, "country_raw")};
  }
  lead.description = get_string(d, "description");
  lead.test_lead = get_bool(d, "test_lead");
  lead.contactable = get_bool(d, "contactable");
  lead.duplicate_of = get_string(d, "duplicate_of");
  if (const auto it = d.FindMember("occurrence"); it != d.MemberEnd() && it->value.IsInt()) {
    lead.occurrence = it->value.GetInt();
  }
  get_strings(d, "action_history", lead.action_history);
  if (const auto* e = get_object(d, "email_check")) {
    lead.email_check.verdict = get_string(*e, "verdict");
    lead.email_check.normalized = get_string(*e, "normalized");
    lead.email_check.domain = get_string(*e, "domain");
    get_strings(*e, "reasons", lead.email_check.reasons);
    lead.email_check.role_mailbox = get_bool(*e, "role_mailbox");
    lead.email_check.free_mail = get_bool(*e, "free_mail");
  }
  if (const auto* p = get_object(d, "phone_check")) {
    lead.phone_check.verdict = get_string(*p, "verdict");
    lead.phone_check.e164 = get_string(*p, "e164");
    lead.phone_check.extension = get_string(*p, "extension");
    lead.phone_check.type = get_string(*p, "type");
    lead.phone_check.region = get_string(*p, "region");
    get_strings(*p, "reasons", lead.phone_check.reasons);
  }
  if (d.HasMember("quality")) lead.quality = get_string(d, "quality");
  get_strings(d, "quality_reasons", lead.quality_reasons);
  if (const auto* p = get_object(d, "partner_center")) {
    auto& r = lead.referral;
    r.id = get_string(*p, "referral_id");
    r.engagement_id = get_string(*p, "engagement_id");
    r.name = get_string(*p, "name");
    r.etag = get_string(*p, "etag");
    r.external_reference_id = get_string(*p, "external_reference_id");
    r.status = get_string(*p, "status");
    r.substatus = get_string(*p, "substatus");
    r.qualification = get_string(*p, "qualification");
    r.type = get_string(*p, "type");
    r.company_size = get_string(*p, "company_size");
    r.call_to_action = get_string(*p, "call_to_action");
    r.updated_at = get_string(*p, "updated_at");
    r.status_reason = get_string(*p, "status_reason");
    r.closing_date = get_string(*p, "closing_date");
    if (const auto it = p->FindMember("deal_value"); it != p->MemberEnd() && it->value.IsNumber()) {
      r.deal_value = it->value.GetDouble();
    }
    r.currency = get_string(*p, "currency");
    if (const auto* q = get_object(*p, "requirements")) {
      get_strings(*q, "products", r.products);
      get_strings(*q, "services", r.services);
      get_strings(*q, "industries", r.industries);
    }
    r.consent_to_contact = !p->HasMember("consent_to_contact") || get_bool(*p, "consent_to_contact");
    r.consent_to_share = !p->HasMember("consent_to_share") || get_bool(*p, "consent_to_share");
    r.customer_requested_contact = get_bool(*p, "customer_requested_contact");
  }
  return true;
}

}  // namespace leadrelay::model
