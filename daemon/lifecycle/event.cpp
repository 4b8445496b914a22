#include "daemon/lifecycle/event.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "daemon/log/log.hpp"
#include "daemon/util/json_write.hpp"

namespace leadrelay::lifecycle {
namespace {
using util::json::Writer;
using util::json::optional;
using util::json::string;

void time_or_null(Writer& w, const char* key, std::int64_t ms) {
  if (ms <= 0) {
    w.Key(key);
    w.Null();
  } else {
    string(w, key, log::format_utc_ms(ms));
  }
}
void deal(Writer& w, const model::Deal& d) {
  const auto json = model::deal_to_json(d);
  w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
}

// The new value of one changed field.
void field_value(Writer& w, std::string_view field, const model::Lifecycle& l) {
  const auto& d = l.deal;
  if (field == "status") return string(w, "status", model::to_string(l.status));
  w.Key(field.data(), static_cast<rapidjson::SizeType>(field.size()));
  if (field == "deal_value") {
    d.value ? w.Double(*d.value) : w.Null();
  } else if (field == "favorite") {
    w.Bool(l.favorite);
  } else if (field == "team") {
    w.StartArray();
    for (const auto& t : d.team) w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
    w.EndArray();
  } else {
    const std::string* value = field == "deal_name"     ? &d.name
                               : field == "currency"    ? &d.currency
                               : field == "close_date"  ? &d.close_date
                               : field == "crm_id"      ? &d.crm_id
                               : field == "campaign_id" ? &d.campaign_id
                               : field == "reason"      ? &l.reason
                                                        : &l.notes;
    value->empty() ? w.Null() : w.String(value->c_str(), static_cast<rapidjson::SizeType>(value->size()));
  }
}

}  // namespace

std::string event_json(const EventFacts& f) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  string(w, "schema", kEventSchema);
  string(w, "event_id", std::string(f.lead_id) + "/" + std::to_string(f.after->version));
  string(w, "lead_id", f.lead_id);
  w.Key("version");
  w.Int64(f.after->version);
  string(w, "action", to_string(f.action));
  string(w, "from_status", model::to_string(f.before->status));
  string(w, "to_status", model::to_string(f.after->status));
  w.Key("changed");
  w.StartObject();
  for (const auto& field : *f.changed) field_value(w, field, *f.after);
  w.EndObject();
  string(w, "actor", f.actor);
  string(w, "at", log::format_utc_ms(f.at_ms));
  if (!f.referral_id.empty()) string(w, "referral_id", f.referral_id);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string lifecycle_json(const model::Lifecycle& l, std::int64_t now_ms) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  string(w, "status", model::to_string(l.status));
  w.Key("hot");
  w.Bool(model::is_hot(l, now_ms));
  time_or_null(w, "hot_until", l.hot_until_ms);
  time_or_null(w, "expires_at", l.expires_at_ms);
  time_or_null(w, "accepted_at", l.accepted_at_ms);
  time_or_null(w, "closed_at", l.closed_at_ms);
  w.Key("deal");
  deal(w, l.deal);
  optional(w, "reason", l.reason);
  optional(w, "notes", l.notes);
  w.Key("favorite");
  w.Bool(l.favorite);
  w.Key("version");
  w.Int64(l.version);
  w.Key("allowed_actions");
  w.StartArray();
  for (auto a : allowed_actions(l.status)) w.String(to_string(a).data());
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace leadrelay::lifecycle
