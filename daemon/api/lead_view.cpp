#include "daemon/api/lead_view.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/lifecycle/event.hpp"

namespace leadrelay::api {
namespace {

bool hides_contact(const store::LeadRow& row) { return row.lifecycle.status == model::Status::Expired; }

// lead.v1 with every member that names or reaches the person set to null.
std::string without_contact(const std::string& lead_json) {
  rapidjson::Document d;
  d.Parse(lead_json.data(), lead_json.size());
  if (d.HasParseError() || !d.IsObject()) return "{}";
  const auto null_members = [&d](const char* object, std::initializer_list<const char*> keys) {
    const auto it = d.FindMember(object);
    if (it == d.MemberEnd() || !it->value.IsObject()) return;
    for (const char* k : keys) {
      if (auto m = it->value.FindMember(k); m != it->value.MemberEnd()) m->value.SetNull();
    }
  };
  null_members("contact", {"first_name", "last_name", "email", "phone", "title"});
  null_members("email_check", {"normalized"});
  null_members("phone_check", {"e164", "extension"});
  if (auto m = d.FindMember("description"); m != d.MemberEnd()) m->value.SetNull();
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  d.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The document, its closing brace taken off so that members can follow.
std::string open_document(const store::LeadRow& row) {
  auto doc = hides_contact(row) ? without_contact(row.lead_json) : row.lead_json;
  while (!doc.empty() && doc.back() != '}') doc.pop_back();
  if (doc.empty()) return "{";
  doc.pop_back();
  return doc + (doc.size() > 1 ? "," : "");
}

}  // namespace

std::string lead_item_json(const store::LeadRow& row, std::int64_t now_ms) {
  return open_document(row) + R"("lifecycle":)" + lifecycle::lifecycle_json(row.lifecycle, now_ms) + "}";
}

std::string lead_detail_json(const store::LeadRow& row, const std::vector<store::LeadEvent>& history,
                             std::int64_t now_ms) {
  std::string out = open_document(row) + R"("lifecycle":)" + lifecycle::lifecycle_json(row.lifecycle, now_ms) +
                    R"(,"history":[)";
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (i > 0) out += ',';
    out += history[i].json;
  }
  return out + "]}";
}

bool lead_of(const store::LeadRow& row, model::Lead& lead) {
  std::string error;
  if (!model::from_json(row.lead_json, lead, error)) return false;
  if (hides_contact(row)) {
    auto& c = lead.contact;
    c.first_name.clear();
    c.last_name.clear();
    c.email.clear();
    c.phone.clear();
    c.title.clear();
    lead.description.clear();
  }
  return true;
}

}  // namespace leadrelay::api
