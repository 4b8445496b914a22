#include "daemon/model/lifecycle.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "daemon/util/json_write.hpp"

namespace leadrelay::model {
namespace {

template <class Enum, std::size_t N>
bool parse_name(std::string_view text, const std::array<Enum, N>& all, Enum& out) {
  for (auto e : all) {
    if (to_string(e) == text) {
      out = e;
      return true;
    }
  }
  return false;
}

// ISO 4217's active codes (list one, 2024), sorted for binary search.
constexpr std::string_view kCurrencies[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF",
    "XPF", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
};

using util::json::Writer;
std::string member_text(const rapidjson::Value& o, const char* key) {
  const auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                      : std::string();
}

}  // namespace

std::string_view to_string(LeadType type) { return type == LeadType::Profile ? "profile" : "offer"; }

std::string_view to_string(Classification c) {
  switch (c) {
    case Classification::CustomerInquiry: return "customer_inquiry";
    case Classification::MarketingQualified: return "marketing_qualified";
    case Classification::SalesQualified: return "sales_qualified";
  }
  return "customer_inquiry";
}

std::string_view to_string(Status s) {
  switch (s) {
    case Status::Received: return "Received";
    case Status::Accepted: return "Accepted";
    case Status::Declined: return "Declined";
    case Status::Won: return "Won";
    case Status::Lost: return "Lost";
    case Status::Expired: return "Expired";
    case Status::Informational: return "Informational";
  }
  return "Informational";
}

bool parse_lead_type(std::string_view text, LeadType& out) {
  return parse_name(text, std::array{LeadType::Offer, LeadType::Profile}, out);
}
bool parse_classification(std::string_view text, Classification& out) {
  return parse_name(text,
                    std::array{Classification::CustomerInquiry, Classification::MarketingQualified,
                               Classification::SalesQualified},
                    out);
}
bool parse_status(std::string_view text, Status& out) {
  return parse_name(text,
                    std::array{Status::Received, Status::Accepted, Status::Declined, Status::Won, Status::Lost,
                               Status::Expired, Status::Informational},
                    out);
}

bool is_final(Status s) {
  return s == Status::Declined || s == Status::Won || s == Status::Lost || s == Status::Expired;
}

std::string deal_to_json(const Deal& deal) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  util::json::optional(w, "name", deal.name);
  w.Key("value");
  if (deal.value) {
    w.Double(*deal.value);
  } else {
    w.Null();
  }
  util::json::optional(w, "currency", deal.currency);
  util::json::optional(w, "close_date", deal.close_date);
  util::json::optional(w, "crm_id", deal.crm_id);
  util::json::optional(w, "campaign_id", deal.campaign_id);
  w.Key("team");
  w.StartArray();
  for (const auto& t : deal.team) w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool deal_from_json(std::string_view json, Deal& out) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return false;
  out = Deal{};
  out.name = member_text(d, "name");
  if (const auto it = d.FindMember("value"); it != d.MemberEnd() && it->value.IsNumber()) {
    out.value = it->value.GetDouble();
  }
  out.currency = member_text(d, "currency");
  out.close_date = member_text(d, "close_date");
  out.crm_id = member_text(d, "crm_id");
  out.campaign_id = member_text(d, "campaign_id");
  if (const auto it = d.FindMember("team"); it != d.MemberEnd() && it->value.IsArray()) {
    for (const auto& t : it->value.GetArray()) {
      if (t.IsString()) out.team.emplace_back(t.GetString(), t.GetStringLength());
    }
  }
  return true;
}

bool is_currency_code(std::string_view code) {
  return std::binary_search(std::begin(kCurrencies), std::end(kCurrencies), code);
}

}  // namespace leadrelay::model
