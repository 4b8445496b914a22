#include "connectors/pc_referral/pc_referral_format.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

#include "connectors/ms_marketplace/ms_marketplace_format.hpp"
#include "daemon/intake/json_body.hpp"
#include "daemon/model/country.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::connectors::pc_referral {
namespace {
using intake::ObjectReader;
using intake::Rejection;
using model::Status;

constexpr std::string_view kEvents[] = {"referral-created", "referral-updated", "related-referral-created",
                                        "related-referral-updated"};

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

// The last path segment of a URI, without query or fragment; empty when it is no plausible id.
std::string last_segment(std::string_view uri) {
  uri = uri.substr(0, uri.find_first_of("?#"));
  while (!uri.empty() && uri.back() == '/') uri.remove_suffix(1);
  const auto slash = uri.rfind('/');
  if (slash == std::string_view::npos) return {};
  const auto id = uri.substr(slash + 1);
  if (id.empty() || id.size() > 128 || id == "." || id == ".." || util::iequals(id, "referrals")) return {};
  for (char c : id) {
    if (!id_char(c)) return {};
  }
  return std::string(id);
}

// A string member of a resource; absent or null reads as "" and any other scalar is kept as its text (Partner
// Center's enums may one day be numbers). Objects and arrays where a string belongs make the resource malformed.
bool text(const ObjectReader& r, std::string_view key, std::string& out, Rejection& error) {
  const auto* v = r.find(key);
  if (v != nullptr && v->IsNumber()) {
    out = v->IsInt64() ? std::to_string(v->GetInt64()) : std::to_string(v->GetDouble());
    return true;
  }
  if (v != nullptr && v->IsBool()) {
    out = v->GetBool() ? "true" : "false";
    return true;
  }
  return r.string(key, out, error, true);
}

bool boolean(const ObjectReader& r, std::string_view key, bool fallback, bool& out, Rejection& error) {
  const auto* v = r.find(key);
  out = fallback;
  if (v == nullptr || v->IsNull()) return true;
  if (v->IsBool()) {
    out = v->GetBool();
    return true;
  }
  if (v->IsString()) {
    const std::string_view s(v->GetString(), v->GetStringLength());
    if (util::iequals(s, "true") || util::iequals(s, "false")) {
      out = util::iequals(s, "true");
      return true;
    }
  }
  error = {400, "invalid_field", "expected true or false", r.field_path(key)};
  return false;
}

// Strings, or objects naming one (name, else id), of an array member.
bool names(const ObjectReader& r, std::string_view key, std::vector<std::string>& out, Rejection& error) {
  const auto* v = r.find(key);
  if (v == nullptr || v->IsNull()) return true;
  if (!v->IsArray()) {
    error = {400, "invalid_field", "expected an array", r.field_path(key)};
    return false;
  }
  for (const auto& item : v->GetArray()) {
    if (out.size() >= 100) break;
    if (item.IsString()) {
      out.emplace_back(util::trim(std::string_view(item.GetString(), item.GetStringLength())));
    } else if (item.IsObject()) {
      for (const char* k : {"name", "Name", "id", "Id"}) {
        const auto it = item.FindMember(k);
        if (it != item.MemberEnd() && it->value.IsString()) {
          out.emplace_back(it->value.GetString(), it->value.GetStringLength());
          break;
        }
      }
    }
  }
  return true;
}

}  // namespace

bool parse_event(const rapidjson::Value& body, ReferralEvent& out, Rejection& error) {
  const ObjectReader root(body, "");
  if (!root.check_unique_keys(error) || !root.string("EventName", out.name, error) ||
      !root.string("ResourceUri", out.resource_uri, error) ||
      !root.string("ResourceChangeUtcDate", out.changed_at, error)) {
    return false;
  }
  bool known = false;
  for (const auto e : kEvents) known = known || util::iequals(out.name, e);
  if (!known) {
    error = {400, "unknown_event",
             out.name.empty() ? std::string("EventName is missing; expected referral-created, referral-updated, "
                                            "related-referral-created or related-referral-updated")
                              : "EventName '" + out.name.substr(0, 100) +
                                    "' is not a referral event (referral-created, referral-updated, "
                                    "related-referral-created, related-referral-updated)",
             "EventName"};
    return false;
  }
  out.name = util::to_lower(out.name);
  out.referral_id = last_segment(out.resource_uri);
  if (out.referral_id.empty()) {
    error = {400, "invalid_field",
             "ResourceUri names no referral id (expected .../engagements/v1/referrals/<id>)", "ResourceUri"};
    return false;
  }
  return true;
}

bool map_event(const rapidjson::Value& body, model::Lead& lead, Rejection& error) {
  ReferralEvent event;
  if (!parse_event(body, event, error)) return false;
  lead.referral.id = event.referral_id;
  lead.lead_source_raw = event.name;
  return true;
}

bool map_resource(const rapidjson::Value& body, model::Lead& lead, Rejection& error) {
  const ObjectReader root(body, "");
  if (!root.check_unique_keys(error)) return false;
  auto& r = lead.referral;
  std::string target_type, program, referral_source, status_reason;
  if (!text(root, "id", r.id, error) || !text(root, "engagementId", r.engagement_id, error) ||
      !text(root, "name", r.name, error) || !text(root, "externalReferenceId", r.external_reference_id, error) ||
      !text(root, "status", r.status, error) || !text(root, "substatus", r.substatus, error) ||
      !text(root, "type", r.type, error) || !text(root, "qualification", r.qualification, error) ||
      !text(root, "eTag", r.etag, error) || !text(root, "updatedDateTime", r.updated_at, error) ||
      !text(root, "callToAction", r.call_to_action, error) || !text(root, "program", program, error) ||
      !text(root, "referralSource", referral_source, error) || !text(root, "statusReason", status_reason, error)) {
    return false;
  }
  if (r.id.empty() || r.id.size() > 128) {
    error = {400, "invalid_field", "the referral has no id", "id"};
    return false;
  }
  const rapidjson::Value *profile = nullptr, *details = nullptr, *consent = nullptr, *target = nullptr;
  if (!root.object("customerProfile", profile, error) || !root.object("details", details, error) ||
      !root.object("consent", consent, error) || !root.object("target", target, error)) {
    return false;
  }
  auto& c = lead.contact;
  if (profile != nullptr) {
    const ObjectReader p(*profile, "customerProfile");
    const rapidjson::Value* address = nullptr;
    if (!text(p, "name", c.company, error) || !text(p, "size", r.company_size, error) ||
        !p.object("address", address, error)) {
      return false;
    }
    if (address != nullptr && !text(ObjectReader(*address, "customerProfile.address"), "country", c.country_raw, error)) {
      return false;
    }
    if (const auto* team = p.find("team"); team != nullptr && !team->IsNull()) {
      if (!team->IsArray()) {
        error = {400, "invalid_field", "expected an array of contacts", "customerProfile.team"};
        return false;
      }
      if (!team->Empty() && (*team)[0].IsObject()) {
        const ObjectReader first((*team)[0], "customerProfile.team[0]");
        if (!text(first, "firstName", c.first_name, error) || !text(first, "lastName", c.last_name, error) ||
            !text(first, "email", c.email, error) || !text(first, "phoneNumber", c.phone, error)) {
          return false;
        }
      }
    }
  }
  if (details != nullptr) {
    const ObjectReader d(*details, "details");
    std::string closing, value;
    bool requested = false;
    const rapidjson::Value* requirements = nullptr;
    if (!text(d, "notes", lead.description, error) || !text(d, "currency", r.currency, error) ||
        !text(d, "closingDateTime", closing, error) || !text(d, "dealValue", value, error) ||
        !boolean(d, "customerRequestedContact", false, requested, error) ||
        !d.object("requirements", requirements, error) || (program.empty() && !text(d, "program", program, error))) {
      return false;
    }
    if (closing.size() >= 10 && closing[4] == '-' && closing[7] == '-') r.closing_date = closing.substr(0, 10);
    if (!value.empty()) {
      char* end = nullptr;
      const double parsed = std::strtod(value.c_str(), &end);
      if (end != nullptr && *end == '\0' && std::isfinite(parsed) && parsed >= 0) r.deal_value = parsed;
    }
    if (requirements != nullptr) {
      const ObjectReader q(*requirements, "details.requirements");
      if (!names(q, "products", r.products, error) || !names(q, "services", r.services, error) ||
          !names(q, "industries", r.industries, error)) {
        return false;
      }
    }
    lead.customer_requested_contact = requested;
    r.customer_requested_contact = requested;
  }
  if (consent != nullptr) {
    const ObjectReader k(*consent, "consent");
    const char* share_key = k.find("consentToToShareInfoWithOthers") != nullptr ? "consentToToShareInfoWithOthers"
                                                                               : "consentToShareInfoWithOthers";
    if (!boolean(k, "consentToContact", true, r.consent_to_contact, error) ||
        !boolean(k, share_key, true, r.consent_to_share, error)) {
      return false;
    }
  }
  if (target != nullptr) {
    if (!text(ObjectReader(*target, "target"), "type", target_type, error)) return false;
  }
  lead.program = program;
  lead.lead_source_raw = referral_source.empty() ? std::string("PartnerCenter") : referral_source;
  lead.lead_type = util::ifind(target_type, "profile") != std::string_view::npos ? model::LeadType::Profile
                                                                                 : model::LeadType::Offer;
  if (util::iequals(r.qualification, "MarketingQualified")) {
    lead.classification = model::Classification::MarketingQualified;
  } else if (util::iequals(r.qualification, "SalesQualified")) {
    lead.classification = model::Classification::SalesQualified;
  }
  // The call to action: the customer asked to be contacted, or the referral says which button.
  const auto cta = util::to_lower(r.call_to_action);
  auto& a = lead.action;
  a.code = r.call_to_action;
  if (lead.customer_requested_contact || cta.find("contact") != std::string::npos) {
    a.call_to_action = model::CallToAction::ContactMe;
    lead.customer_requested_contact = true;
  } else if (cta.find("trial") != std::string::npos) {
    a.call_to_action = model::CallToAction::GetItNowOrFreeTrial;
  } else if (cta.find("testdrive") != std::string::npos || cta.find("test drive") != std::string::npos) {
    a.call_to_action = model::CallToAction::TestDrive;
  } else if (cta.find("getitnow") != std::string::npos || cta.find("get it now") != std::string::npos) {
    a.call_to_action = model::CallToAction::GetItNow;
  }
  // A referral is for the partner to answer, whatever button started it (Partner Center tracks its status).
  a.partner_action_required = true;
  c.country = std::string(model::country_alpha2(c.country_raw));
  lead.contactable = (!c.email.empty() || !c.phone.empty()) && r.consent_to_contact;
  using ms_marketplace::has_test_marker;
  lead.test_lead = has_test_marker(c.first_name) || has_test_marker(c.last_name) || has_test_marker(c.email) ||
                   has_test_marker(c.company);
  r.status_reason = status_reason;
  return true;
}

bool ReferralState::closed() const { return util::iequals(status, "Closed"); }

bool read_state(const rapidjson::Value& resource, ReferralState& out) {
  if (!resource.IsObject()) return false;
  const auto get = [&](const char* key, std::string& v) {
    const auto it = resource.FindMember(key);
    if (it != resource.MemberEnd() && it->value.IsString()) v.assign(it->value.GetString(), it->value.GetStringLength());
  };
  get("id", out.id);
  get("eTag", out.etag);
  get("status", out.status);
  get("substatus", out.substatus);
  return !out.id.empty();
}

namespace {
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
void op(Writer& w, const char* verb, const char* path, const rapidjson::Value& value) {
  w.StartObject();
  w.Key("op");
  w.String(verb);
  w.Key("path");
  w.String(path);
  w.Key("value");
  value.Accept(w);
  w.EndObject();
}
void op(Writer& w, const char* verb, const char* path, std::string_view value) {
  rapidjson::Value v(rapidjson::StringRef(value.data(), value.size()));
  op(w, verb, path, v);
}
}  // namespace

bool read_write_back(std::string_view event_json, WriteBack& out, std::string& error) {
  rapidjson::Document d;
  d.Parse(event_json.data(), event_json.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("action") || !d["action"].IsString() ||
      !d.HasMember("to_status") || !d["to_status"].IsString() || !d.HasMember("changed") || !d["changed"].IsObject()) {
    error = "not a lead-event.v1 document";
    return false;
  }
  const auto it = d.FindMember("referral_id");
  if (it == d.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0) {
    error = "the event's lead is not a Partner Center referral";
    return false;
  }
  out.referral_id = it->value.GetString();
  const std::string_view action = d["action"].GetString();
  bool known = false;
  for (auto a : {lifecycle::Action::Accept, lifecycle::Action::Decline, lifecycle::Action::Win,
                 lifecycle::Action::Lose, lifecycle::Action::Update}) {
    if (lifecycle::to_string(a) == action) {
      out.action = a;
      known = true;
    }
  }
  if (!known || !model::parse_status(d["to_status"].GetString(), out.to_status)) {
    out.patch.clear();  // expiry, favorites, Partner Center's own changes: nothing to write
    return true;
  }
  const auto& changed = d["changed"];
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  std::size_t ops = 0;
  if (changed.HasMember("status")) {
    const auto [status, substatus] = lifecycle::partner_center_status(out.to_status);
    op(w, "replace", "/status", status);
    op(w, "replace", "/substatus", substatus);
    ops += 2;
  }
  struct Field {
    const char* name;
    const char* path;
  };
  constexpr Field kFields[] = {
      {"deal_name", "/name"},          {"deal_value", "/details/dealValue"},
      {"currency", "/details/currency"}, {"close_date", "/details/closingDateTime"},
      {"notes", "/details/notes"},     {"crm_id", "/externalReferenceId"},
      {"campaign_id", "/campaignId"},  {"reason", "/statusReason"},
  };
  for (const auto& f : kFields) {
    const auto m = changed.FindMember(f.name);
    if (m == changed.MemberEnd()) continue;
    if (std::string_view(f.name) == "close_date" && m->value.IsString()) {
      const std::string at = std::string(m->value.GetString()) + "T00:00:00Z";
      op(w, "add", f.path, at);
    } else {
      op(w, "add", f.path, m->value);
    }
    ++ops;
  }
  if (const auto team = changed.FindMember("team"); team != changed.MemberEnd() && team->value.IsArray()) {
    w.StartObject();
    w.Key("op");
    w.String("add");
    w.Key("path");
    w.String("/team");
    w.Key("value");
    w.StartArray();
    for (const auto& email : team->value.GetArray()) {
      if (!email.IsString()) continue;
      w.StartObject();
      w.Key("email");
      w.String(email.GetString(), email.GetStringLength());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    ++ops;
  }
  w.EndArray();
  out.patch = ops == 0 ? std::string() : std::string(buffer.GetString(), buffer.GetSize());
  return true;
}

bool write_allowed(const ReferralState& current, const WriteBack& change, bool& done) {
  const auto [status, substatus] = lifecycle::partner_center_status(change.to_status);
  done = change.action != lifecycle::Action::Update && util::iequals(current.status, status) &&
         util::iequals(current.substatus, substatus);
  if (done) return true;
  if (current.closed()) return false;  // nothing is ever written to a Closed referral
  switch (change.action) {
    case lifecycle::Action::Accept:
    case lifecycle::Action::Decline: return util::iequals(current.status, "New");
    case lifecycle::Action::Win:
    case lifecycle::Action::Lose:
    case lifecycle::Action::Update: return util::iequals(current.status, "Active");
    default: return false;
  }
}

}  // namespace leadrelay::connectors::pc_referral
