#include "connectors/ms_marketplace/ms_marketplace_format.hpp"

#include "daemon/intake/json_body.hpp"
#include "daemon/model/country.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::connectors::ms_marketplace {
namespace {

struct ActionInfo {
  std::string_view code;
  model::CallToAction cta;
  bool partner_action_required;
  bool do_not_contact;
};

constexpr ActionInfo kActions[] = {
    {"INS", model::CallToAction::GetItNowOrFreeTrial, false, false},
    {"PLT", model::CallToAction::ContactMe, true, false},
    {"DNC", model::CallToAction::None, false, true},
    {"Create", model::CallToAction::GetItNow, false, false},
    {"StartTestDrive", model::CallToAction::TestDrive, false, false},
};

const ActionInfo* find_action(std::string_view code) {
  for (const auto& a : kActions) {
    if (util::iequals(a.code, code)) return &a;
  }
  return nullptr;
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_id(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_id_char(c)) return false;
  }
  return true;
}

}  // namespace

model::Origin parse_origin(std::string_view source) {
  const auto s = util::trim(source);
  if (util::iequals(s, "AzureMarketplace")) return model::Origin::AzureMarketplace;
  if (util::iequals(s, "AzurePortal")) return model::Origin::AzurePortal;
  if (util::iequals(s, "AppSource (SPZA)") || util::iequals(s, "AppSource") || util::iequals(s, "SPZA") ||
      util::iequals(s, "AppSource(SPZA)")) {
    return model::Origin::AppSource;
  }
  if (util::iequals(s, "TestDrive")) return model::Origin::TestDrive;
  return model::Origin::Unknown;
}

model::Action parse_action(std::string_view code) {
  model::Action action;
  const auto c = util::trim(code);
  if (c.empty()) return action;
  if (const auto* info = find_action(c)) {
    action.code = std::string(info->code);
    action.call_to_action = info->cta;
    action.partner_action_required = info->partner_action_required;
    action.do_not_contact = info->do_not_contact;
  } else {
    action.code = std::string(c);
  }
  return action;
}

LeadSourceParts parse_lead_source(std::string_view lead_source) {
  LeadSourceParts parts;
  const auto raw = util::trim(lead_source);
  const auto bar = raw.find('|');
  auto left = util::trim(raw.substr(0, bar));
  if (bar != std::string_view::npos) parts.offer = std::string(util::trim(raw.substr(bar + 1)));
  // "Source-Action": split only when what follows the last '-' is a known action code, so free text
  // such as "Web-form" stays whole.
  const auto dash = left.rfind('-');
  if (dash != std::string_view::npos) {
    if (const auto* info = find_action(util::trim(left.substr(dash + 1)))) {
      parts.action_code = std::string(info->code);
      left = util::trim(left.substr(0, dash));
    }
  }
  parts.origin = parse_origin(left);
  return parts;
}

model::Offer parse_offer(std::string_view offer, std::string_view title) {
  model::Offer out;
  out.id = std::string(util::trim(offer));
  out.title = std::string(title);
  const auto dot = out.id.find('.');
  if (dot != std::string::npos) {
    const std::string_view id(out.id);
    const auto publisher = id.substr(0, dot);
    const auto offer_id = id.substr(dot + 1);
    if (is_id(publisher) && is_id(offer_id)) {
      out.publisher_id = util::to_lower(publisher);
      out.offer_id = util::to_lower(offer_id);
    }
  }
  return out;
}

bool has_test_marker(std::string_view value) {
  constexpr std::string_view kMarker = "MSFT_TEST_";
  for (auto pos = util::ifind(value, kMarker); pos != std::string_view::npos;) {
    const auto next = pos + kMarker.size();
    if (next < value.size() && value[next] >= '0' && value[next] <= '9') return true;
    const auto rest = util::ifind(value.substr(next), kMarker);
    pos = rest == std::string_view::npos ? rest : next + rest;
  }
  return false;
}

bool map_lead(const rapidjson::Value& body, model::Lead& lead, intake::Rejection& error) {
  const intake::ObjectReader root(body, "");
  if (!root.check_unique_keys(error)) return false;

  const rapidjson::Value* user = nullptr;
  if (!root.object("UserDetails", user, error)) return false;

  std::string lead_source;
  std::string action_code;
  std::string offer_title;
  if (!root.string("LeadSource", lead_source, error) || !root.string("ActionCode", action_code, error) ||
      !root.string("OfferTitle", offer_title, error) || !root.string("Description", lead.description, error, true)) {
    return false;
  }

  auto& c = lead.contact;
  if (user != nullptr) {
    const intake::ObjectReader details(*user, "UserDetails");
    if (!details.check_unique_keys(error)) return false;
    if (!details.string("FirstName", c.first_name, error) || !details.string("LastName", c.last_name, error) ||
        !details.string("Email", c.email, error) || !details.string("Phone", c.phone, error) ||
        !details.string("Country", c.country_raw, error) || !details.string("Company", c.company, error) ||
        !details.string("Title", c.title, error)) {
      return false;
    }
  }

  const auto parts = parse_lead_source(lead_source);
  lead.lead_source_raw = lead_source;
  lead.origin = parts.origin;
  // The ActionCode field is the documented one; LeadSource's embedded code fills in for older senders.
  lead.action = parse_action(action_code.empty() ? parts.action_code : action_code);
  // Marketplace leads are offer leads and customer inquiries (the model's defaults); Contact me asks for a call.
  lead.customer_requested_contact = lead.action.call_to_action == model::CallToAction::ContactMe;
  lead.offer = parse_offer(parts.offer, offer_title);
  c.country = std::string(model::country_alpha2(c.country_raw));
  lead.contactable = !c.email.empty() || !c.phone.empty();
  lead.test_lead = has_test_marker(c.first_name) || has_test_marker(c.last_name) || has_test_marker(c.email) ||
                   has_test_marker(lead.description);
  return true;
}

}  // namespace leadrelay::connectors::ms_marketplace
