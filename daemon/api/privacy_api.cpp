// The personal-data endpoints of the leads API (schemas/admin-api.openapi.yaml), for referral admins:
//   POST /api/v1/privacy/erase   {"email"|"phone"|"lead_id": ...}: erase that person's contact data everywhere
//   GET  /api/v1/privacy/person?email=|phone=|lead_id=: everything stored about that person (subject access)
// Both are written to the audit trail, by lead id.
#include <rapidjson/document.h>

#include <algorithm>

#include "daemon/api/lead_view.hpp"
#include "daemon/api/leads_api.hpp"
#include "daemon/api/responses.hpp"
#include "daemon/log/log.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::api {
namespace {
using http::AdminResponse;

// Who is meant: exactly one of email, phone, lead_id, normalized as the store keys them.
struct Person {
  std::string email, phone, lead_id;
};

bool read_person(const std::vector<std::pair<std::string, std::string>>& given, Person& p, AdminResponse& refusal) {
  int n = 0;
  for (const auto& [name, raw] : given) {
    const auto value = std::string(util::trim(raw));
    if (value.empty()) continue;
    ++n;
    if (name == "email") {
      if (value.find('@') == std::string::npos) {
        refusal = error(400, "bad_request", "email must be a mail address", "email");
        return false;
      }
      p.email = util::to_lower(value);
    } else if (name == "phone") {
      for (char c : value) {
        if ((c >= '0' && c <= '9') || (c == '+' && p.phone.empty())) p.phone += c;
      }
      if (p.phone.size() < 5) {
        refusal = error(400, "bad_request", "phone must hold the number's digits, with its country code", "phone");
        return false;
      }
    } else if (name == "lead_id") {
      p.lead_id = value;
    }
  }
  if (n != 1) {
    refusal = error(400, "bad_request", "name the person by exactly one of email, phone or lead_id", "email");
    return false;
  }
  return true;
}

std::string_view state_name(int state) {
  switch (state) {
    case 0: return "pending";
    case 1: return "delivered";
    case 2: return "dead_letter";
    case 4: return "replayed";
    case 5: return "cancelled";
  }
  return "unknown";
}

}  // namespace

AdminResponse LeadsApi::privacy(const http::AdminRequest& req, std::string_view what, const Caller& caller) {
  if (caller.role != Role::ReferralsAdmin && caller.role != Role::Operator) {
    return error(403, "forbidden", "personal-data requests need a referrals_admin token");
  }
  Person person;
  AdminResponse refusal;
  if (what == "erase") {
    if (req.method != "POST") return method_not_allowed("POST");
    rapidjson::Document body;
    body.Parse(req.body.data(), req.body.size());
    if (body.HasParseError() || !body.IsObject()) {
      return error(400, "bad_request", "send {\"email\": ...}, {\"phone\": ...} or {\"lead_id\": ...}", "body");
    }
    std::vector<std::pair<std::string, std::string>> given;
    for (const char* key : {"email", "phone", "lead_id"}) {
      const auto it = body.FindMember(key);
      if (it == body.MemberEnd()) continue;
      if (!it->value.IsString()) return error(400, "bad_request", std::string(key) + " must be a string", key);
      given.emplace_back(key, std::string(it->value.GetString(), it->value.GetStringLength()));
    }
    if (!read_person(given, person, refusal)) return refusal;
  } else if (what == "person") {
    if (req.method != "GET") return method_not_allowed("GET");
    std::vector<std::pair<std::string, std::string>> given;
    std::string_view rest = req.query;
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto part = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      if (part.empty()) continue;
      const auto eq = part.find('=');
      const auto name = std::string(part.substr(0, eq));
      if (name != "email" && name != "phone" && name != "lead_id") {
        return error(400, "bad_request", "unknown parameter '" + name + "'; give email, phone or lead_id", name);
      }
      given.emplace_back(name, eq == std::string_view::npos ? std::string() : util::url_decode(part.substr(eq + 1)));
    }
    if (!read_person(given, person, refusal)) return refusal;
  } else {
    return error(404, "not_found", "personal-data requests are /api/v1/privacy/erase and /api/v1/privacy/person");
  }

  std::vector<store::LeadRow> rows;
  std::vector<std::vector<store::LeadEvent>> histories;
  std::vector<std::vector<store::DeliveryRecord>> deliveries;
  {
    Lease store(*this);
    if (!store) return store_unavailable(store.error);
    std::string problem;
    auto snapshot = store->snapshot();
    if (!store->person_leads(person.email, person.phone, person.lead_id, rows, problem)) {
      return store_unavailable(problem);
    }
    if (what == "person") {
      for (const auto& r : rows) {
        histories.push_back(store->lead_history(r.seq));
        deliveries.emplace_back();
        if (!store->lead_deliveries(r.seq, deliveries.back(), problem)) return store_unavailable(problem);
      }
    }
  }
  const auto now = log::now_unix_ms();
  if (what == "person") {
    std::string body = R"({"leads":[)";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (i > 0) body += ',';
      std::string d = "[";
      for (const auto& x : deliveries[i]) {
        if (d.size() > 1) d += ',';
        d += R"({"destination":)" + util::json_quote(x.destination) + R"(,"what":)" + util::json_quote(x.what) +
             R"(,"state":)" + util::json_quote(state_name(x.state)) + R"(,"done_at":)" +
             (x.done_ms > 0 ? util::json_quote(log::format_utc_ms(x.done_ms)) : std::string("null")) + "}";
      }
      d += "]";
      auto detail = lead_detail_json(rows[i], histories[i], now);
      // {"lead":..., "lifecycle":..., "history":...} plus where it went.
      detail.pop_back();
      body += detail + R"(,"deliveries":)" + d + "}";
    }
    body += "]}";
    return audited(json(200, body), caller, "export-person", rows);
  }
  const auto outcome = changes_.erase(rows, caller.name, now);
  if (!outcome.stored) return error(503, "store_unavailable", "the store did not accept the erasure; nothing was erased");
  std::string ids = "[";
  for (const auto& id : outcome.lead_ids) ids += (ids.size() > 1 ? "," : "") + util::json_quote(id);
  ids += "]";
  std::vector<store::LeadRow> erased;
  for (const auto& r : rows) {
    if (std::find(outcome.lead_ids.begin(), outcome.lead_ids.end(), r.lead_id) != outcome.lead_ids.end()) {
      erased.push_back(r);
    }
  }
  return audited(json(200, R"({"erased":)" + std::to_string(outcome.lead_ids.size()) + R"(,"lead_ids":)" + ids +
                               R"(,"events":)" + std::to_string(outcome.events) + R"(,"wal_truncated":)" +
                               (outcome.wal_truncated ? "true" : "false") + "}"),
                 caller, "erase", erased);
}

}  // namespace leadrelay::api
