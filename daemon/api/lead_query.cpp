#include "daemon/api/lead_query.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <rapidjson/document.h>

#include "daemon/util/strings.hpp"

namespace leadrelay::api {
namespace {
using Choices = std::vector<std::string_view>;

const Choices kStatuses = {"Received", "Accepted", "Declined", "Won", "Lost", "Expired", "Informational"};
const Choices kCallsToAction = {"GetItNowOrFreeTrial", "ContactMe", "None", "GetItNow", "TestDrive", "Unknown"};
const Choices kLeadSources = {"AzureMarketplace", "AzurePortal", "AppSource", "TestDrive", "Unknown"};
const Choices kLeadTypes = {"offer", "profile"};
const Choices kClassifications = {"customer_inquiry", "marketing_qualified", "sales_qualified"};
const Choices kQualities = {"High", "Low"};
const Choices kEmailValidity = {"Valid", "Invalid", "Spam", "Unknown"};
const Choices kPhoneValidity = {"Valid", "Invalid", "Unknown"};

const Choices kFilters = {"status", "call_to_action", "country", "customer", "lead_source", "lead_type",
                          "classification", "quality", "email_validity", "phone_validity", "favorite", "hot",
                          "from", "to", "limit", "cursor"};

// Each value one of `choices` (as written there); the problem, or empty.
std::string check_choices(const std::vector<std::string>& values, const Choices& choices) {
  if (values.empty()) return "give at least one value; expected " + util::join_choices(choices);
  for (const auto& v : values) {
    if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
      const auto suggestion = util::closest_match(v, choices);
      return "'" + v + "' is not one of " + util::join_choices(choices) +
             (suggestion.empty() ? "" : "; did you mean '" + std::string(suggestion) + "'?");
    }
  }
  return {};
}

}  // namespace

std::string encode_cursor(std::int64_t seq) { return "s" + std::to_string(seq); }

std::int64_t decode_cursor(std::string_view cursor) {
  unsigned long long n = 0;
  if (cursor.size() < 2 || cursor[0] != 's' || !util::parse_u64(cursor.substr(1), 1ULL << 62, n)) return 0;
  return static_cast<std::int64_t>(n);
}

bool parse_time(std::string_view text, std::int64_t& ms) {
  std::tm tm{};
  int millis = 0;
  const std::string t(text);
  char tail = 0;
  if (t.size() == 10 && std::sscanf(t.c_str(), "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tail) == 3) {
  } else if (t.size() == 20 && std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
                                           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
  } else if (t.size() == 24 && std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                                           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) == 7) {
  } else {
    return false;
  }
  if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
      tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  ms = static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
  return true;
}

QueryProblem parse_lead_query(std::string_view query, store::LeadFilter& f, int max_limit,
                              const std::vector<std::string_view>& extra, std::vector<std::string>* extra_values) {
  if (extra_values != nullptr) extra_values->assign(extra.size(), std::string());
  for (const auto& param : util::query_params(query)) {
    // Named apart: clang 14 does not let lambdas capture structured bindings.
    const std::string& key = param.first;
    const std::string& value = param.second;
    const auto problem = [&](std::string message) { return QueryProblem{key, std::move(message)}; };
    if (const auto it = std::find(extra.begin(), extra.end(), key); it != extra.end()) {
      (*extra_values)[static_cast<std::size_t>(it - extra.begin())] = value;
      continue;
    }
    const std::pair<const char*, std::pair<std::vector<std::string>*, const Choices*>> lists[] = {
        {"status", {&f.status, &kStatuses}},
        {"call_to_action", {&f.call_to_action, &kCallsToAction}},
        {"lead_source", {&f.lead_source, &kLeadSources}},
        {"lead_type", {&f.lead_type, &kLeadTypes}},
        {"classification", {&f.classification, &kClassifications}},
        {"quality", {&f.quality, &kQualities}},
        {"email_validity", {&f.email_validity, &kEmailValidity}},
        {"phone_validity", {&f.phone_validity, &kPhoneValidity}},
    };
    bool listed = false;
    for (const auto& [name, target] : lists) {
      if (key != name) continue;
      listed = true;
      auto values = util::split_list(value);
      if (auto bad = check_choices(values, *target.second); !bad.empty()) return problem(bad);
      target.first->insert(target.first->end(), values.begin(), values.end());
    }
    if (listed) continue;
    if (key == "country") {
      auto values = util::split_list(value);
      if (values.empty()) return problem("give at least one ISO 3166-1 alpha-2 code, such as US");
      for (auto& v : values) {
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
        if (v.size() != 2 || !std::isalpha(static_cast<unsigned char>(v[0])) ||
            !std::isalpha(static_cast<unsigned char>(v[1]))) {
          return problem("'" + v + "' is not an ISO 3166-1 alpha-2 code such as US or DE");
        }
        f.country.push_back(v);
      }
    } else if (key == "customer") {
      if (value.empty() || value.size() > 200) return problem("give 1 to 200 characters of the company name");
      f.customer = value;
    } else if (key == "favorite" || key == "hot") {
      if (value != "true" && value != "false") return problem("expected true or false");
      (key == "hot" ? f.hot : f.favorite) = value == "true";
    } else if (key == "from" || key == "to") {
      std::int64_t ms = 0;
      if (!parse_time(value, ms)) {
        return problem("'" + value + "' is not a time; use 2026-11-30 or 2026-11-30T12:00:00Z (UTC)");
      }
      // A date alone as `to` means the whole of that day.
      if (key == "to" && value.size() == 10) ms += 86400000;
      (key == "from" ? f.from_ms : f.to_ms) = ms;
    } else if (key == "limit") {
      unsigned long long n = 0;
      if (!util::parse_u64(value, static_cast<unsigned long long>(max_limit), n) || n == 0) {
        return problem("expected a number from 1 to " + std::to_string(max_limit));
      }
      f.limit = static_cast<int>(n);
    } else if (key == "cursor") {
      f.before_seq = decode_cursor(value);
      if (f.before_seq == 0) return problem("not a cursor this API gave out; use next_cursor from the last page");
    } else {
      Choices known = kFilters;
      known.insert(known.end(), extra.begin(), extra.end());
      const auto suggestion = util::closest_match(key, known);
      return problem("unknown parameter '" + key + "'" +
                     (suggestion.empty() ? "; parameters are " + util::join_choices(known)
                                         : "; did you mean '" + std::string(suggestion) + "'?"));
    }
  }
  if (f.from_ms > 0 && f.to_ms > 0 && f.from_ms >= f.to_ms) return {"from", "must be before to"};
  return {};
}

// The JSON body of a change into `q`: only the fields the action takes, with their types. The problem, or empty.
QueryProblem parse_change_body(std::string_view body, lifecycle::Action action, lifecycle::ChangeRequest& q) {
  q.action = action;
  if (util::trim(body).empty()) return {};
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return {"body", "expected a JSON object"};
  using Request = lifecycle::ChangeRequest;
  constexpr std::pair<const char*, std::optional<std::string> Request::*> kTexts[] = {
      {"deal_name", &Request::deal_name}, {"currency", &Request::currency}, {"close_date", &Request::close_date},
      {"crm_id", &Request::crm_id},       {"campaign_id", &Request::campaign_id}, {"notes", &Request::notes},
  };
  for (const auto& m : d.GetObject()) {
    const std::string key(m.name.GetString(), m.name.GetStringLength());
    const auto& v = m.value;
    bool ok = true;
    const auto text = std::find_if(std::begin(kTexts), std::end(kTexts), [&](const auto& t) { return key == t.first; });
    if (text != std::end(kTexts)) {
      ok = v.IsString();
      if (ok) q.*(text->second) = std::string(v.GetString(), v.GetStringLength());
    } else if (key == "reason") {
      ok = v.IsInt() || v.IsString();
      if (ok) q.reason = v.IsInt() ? std::to_string(v.GetInt()) : std::string(v.GetString(), v.GetStringLength());
    } else if (key == "deal_value") {
      ok = v.IsNumber();
      if (ok) q.deal_value = v.GetDouble();
    } else if (key == "team") {
      ok = v.IsArray();
      if (ok) {
        q.team.emplace();
        for (const auto& t : v.GetArray()) {
          if (!t.IsString()) return {"team", "expected a list of e-mail addresses"};
          q.team->emplace_back(t.GetString(), t.GetStringLength());
        }
      }
    } else {
      return {key, "is not a field of " + std::string(lifecycle::to_string(action))};
    }
    if (!ok) {
      return {key, key == "deal_value" ? "expected a number" : key == "team" ? "expected a list" : "expected a string"};
    }
  }
  return {};
}

}  // namespace leadrelay::api
