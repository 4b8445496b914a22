#include "daemon/notify/document.hpp"

#include "daemon/util/json_write.hpp"

namespace leadrelay::notify {
namespace {
namespace json = util::json;
using json::Writer;

std::string_view call_to_action_label(model::CallToAction cta) {
  switch (cta) {
    case model::CallToAction::ContactMe: return "Contact me";
    case model::CallToAction::GetItNowOrFreeTrial: return "Get it now / Free trial";
    case model::CallToAction::GetItNow: return "Get it now";
    case model::CallToAction::TestDrive: return "Test drive";
    case model::CallToAction::None: return "None";
    case model::CallToAction::Unknown: break;
  }
  return "Unknown";
}

void write_lead(Writer& w, const NotifyConfig& c, const LeadState& state, std::int64_t now_ms) {
  const auto& l = state.lead;
  const auto& lc = state.lifecycle;
  const auto& k = l.contact;
  w.StartObject();
  json::string(w, "lead_id", l.lead_id);
  auto name = k.first_name;
  if (!k.last_name.empty()) name += (name.empty() ? "" : " ") + k.last_name;
  json::string(w, "name", name);
  json::string(w, "first_name", k.first_name);
  json::string(w, "last_name", k.last_name);
  json::string(w, "email", k.email);
  json::string(w, "email_verdict", l.email_check.verdict);
  json::string(w, "phone", l.phone_check.e164.empty() ? k.phone : l.phone_check.e164);
  json::string(w, "phone_verdict", l.phone_check.verdict);
  json::string(w, "company", k.company);
  json::string(w, "title", k.title);
  json::string(w, "country", k.country.empty() ? k.country_raw : k.country);
  json::string(w, "offer", l.offer.title.empty() ? l.offer.id : l.offer.title);
  json::string(w, "offer_id", l.offer.id);
  json::string(w, "call_to_action", call_to_action_label(l.action.call_to_action));
  json::string(w, "lead_type", model::to_string(l.lead_type));
  json::string(w, "classification", model::to_string(l.classification));
  json::string(w, "program", l.program);
  json::string(w, "quality", l.quality);
  json::boolean(w, "low_quality", l.quality == "Low");
  json::key(w, "quality_reasons");
  w.StartArray();
  std::string reasons;
  for (const auto& r : l.quality_reasons) {
    w.String(r.c_str(), static_cast<rapidjson::SizeType>(r.size()));
    reasons += (reasons.empty() ? "" : ", ") + r;
  }
  w.EndArray();
  json::string(w, "quality_reasons_text", reasons);
  json::boolean(w, "hot", model::is_hot(lc, now_ms));
  json::boolean(w, "requested_contact", l.referral.customer_requested_contact);
  const auto& zone = *c.zone;
  json::string(w, "received_at", zone.format(lc.received_at_ms != 0 ? lc.received_at_ms : l.received_at_ms));
  json::string(w, "expires_at", lc.expires_at_ms > 0 ? zone.format(lc.expires_at_ms) : std::string());
  json::string(w, "description", l.description);
  json::string(w, "link", c.console_base_url.empty() ? std::string() : c.console_base_url + "/console/leads/" + l.lead_id);
  json::string(w, "referral_id", l.referral.id);
  json::string(w, "status", model::to_string(lc.status));
  w.EndObject();
}

void write_head(Writer& w, const NotifyConfig& c, const NotifyRule& rule, std::string_view day) {
  json::string(w, "rule", rule.name);
  json::key(w, "to");
  w.StartArray();
  for (const auto& a : rule.to) w.String(a.c_str(), static_cast<rapidjson::SizeType>(a.size()));
  w.EndArray();
  json::string(w, "day", day);
  json::string(w, "timezone", c.timezone);
  json::key(w, "digest_after");
  w.Int(c.digest_after);
}

}  // namespace

std::string lead_document(const NotifyConfig& config, const NotifyRule& rule, const LeadState& lead,
                          std::int64_t now_ms) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  const auto at = lead.lifecycle.received_at_ms != 0 ? lead.lifecycle.received_at_ms : lead.lead.received_at_ms;
  write_head(w, config, rule, config.zone->day(at));
  json::key(w, "count");
  w.Int(1);
  json::key(w, "leads");
  w.StartArray();
  write_lead(w, config, lead, now_ms);
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string digest_document(const NotifyConfig& config, const NotifyRule& rule, std::string_view day,
                            const std::vector<LeadState>& leads, const std::vector<LeadState>& waiting,
                            std::int64_t now_ms) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_head(w, config, rule, day);
  json::key(w, "count");
  w.Int64(static_cast<std::int64_t>(leads.size()));
  if (!waiting.empty()) {
    json::key(w, "waiting_count");
    w.Int64(static_cast<std::int64_t>(waiting.size()));
  }
  json::key(w, "leads");
  w.StartArray();
  for (const auto& l : leads) write_lead(w, config, l, now_ms);
  w.EndArray();
  json::key(w, "waiting");
  w.StartArray();
  for (const auto& l : waiting) write_lead(w, config, l, now_ms);
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

LeadState sample_lead(std::int64_t now_ms) {
  LeadState s;
  auto& l = s.lead;
  l.lead_id = "00000000-0000-7000-8000-000000000000";
  l.received_at_ms = now_ms;
  l.contact = {"Jordan", "Example", "jordan@example.com", "+1 425 555 0100", "Contoso (sample)", "IT manager", "US",
               "US"};
  l.offer.id = "contoso.sample-offer";
  l.offer.title = "Sample offer";
  l.action.call_to_action = model::CallToAction::ContactMe;
  l.action.partner_action_required = true;
  l.description = "This is a test message from leadrelay notify test.";
  l.email_check.verdict = "Valid";
  l.phone_check.verdict = "Valid";
  s.lifecycle.status = model::Status::Received;
  s.lifecycle.received_at_ms = now_ms;
  s.lifecycle.expires_at_ms = now_ms + 14 * 86400000LL;
  return s;
}

}  // namespace leadrelay::notify
