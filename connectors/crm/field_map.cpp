#include "connectors/crm/field_map.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace leadrelay::connectors::crm {
namespace {

const rapidjson::Value* find(const rapidjson::Value& root, std::string_view path) {
  const rapidjson::Value* node = &root;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const std::string part(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    if (!node->IsObject()) return nullptr;
    const auto it = node->FindMember(part.c_str());
    if (it == node->MemberEnd()) return nullptr;
    node = &it->value;
  }
  return node;
}

bool present(const rapidjson::Value* v) {
  return v != nullptr && !v->IsNull() && !(v->IsString() && v->GetStringLength() == 0);
}

}  // namespace

std::vector<FieldMapping> merge_fields(const std::vector<FieldMapping>& defaults, config::MapReader& r,
                                       std::string_view key) {
  auto out = defaults;
  const auto node = r.child(key);
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    r.error(key, "expected a map of CRM field: lead.v1 path (e.g. {Title: contact.title, LeadSource: \"=Marketplace\"})");
    return out;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const auto field = it->first.Scalar();
    const auto source = it->second.IsScalar() ? it->second.Scalar() : std::string();
    if (!it->second.IsScalar() && !it->second.IsNull()) {
      r.error(key, "the value of '" + field + "' must be a lead.v1 path or \"=text\"");
      continue;
    }
    std::erase_if(out, [&](const FieldMapping& m) { return m.field == field; });
    if (!source.empty()) out.push_back({field, source});
  }
  return out;
}

bool build_record(std::string_view lead_json, const std::vector<FieldMapping>& fields, std::string& record_json,
                  std::string& error) {
  rapidjson::Document lead;
  lead.Parse(lead_json.data(), lead_json.size());
  if (lead.HasParseError() || !lead.IsObject()) {
    error = "the lead is not a JSON object";
    return false;
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& m : fields) {
    std::string_view rest = m.source;
    while (!rest.empty()) {
      const auto bar = rest.find('|');
      const auto choice = rest.substr(0, bar);
      rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
      if (!choice.empty() && choice.front() == '=') {
        w.Key(m.field.c_str());
        w.String(choice.data() + 1, static_cast<rapidjson::SizeType>(choice.size() - 1));
        break;
      }
      const auto* v = find(lead, choice);
      if (!present(v)) continue;
      w.Key(m.field.c_str());
      v->Accept(w);
      break;
    }
  }
  w.EndObject();
  record_json.assign(buffer.GetString(), buffer.GetSize());
  return true;
}

std::string lead_value(std::string_view lead_json, std::string_view path) {
  rapidjson::Document lead;
  lead.Parse(lead_json.data(), lead_json.size());
  if (lead.HasParseError()) return {};
  const auto* v = find(lead, path);
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

}  // namespace leadrelay::connectors::crm
