#include "daemon/insights/query.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "daemon/util/strings.hpp"

namespace leadrelay::insights {
namespace {
using Choices = std::vector<std::string_view>;
const Choices kParameters = {"range", "from", "to", "tab", "customer", "country", "lead_type", "offer", "program",
                             "by", "measure", "values"};
const Choices kRanges = {"1M", "3M", "6M", "custom"};
const Choices kTabs = {"marketplace", "qualified"};
const Choices kLeadTypes = {"offer", "profile"};
const Choices kBy = {"lead_source", "country", "offer", "call_to_action", "classification", "program"};
const Choices kMeasures = {"count", "value"};
constexpr int kMaxCustomMonths = 36;

std::string one_of(std::string_view value, const Choices& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return {};
  const auto suggestion = util::closest_match(value, choices);
  return "'" + std::string(value) + "' is not one of " + util::join_choices(choices) +
         (suggestion.empty() ? "" : "; did you mean '" + std::string(suggestion) + "'?");
}

// The month `delta` months after `month` (YYYY-MM).
std::string add_months(std::string_view month, int delta) {
  int y = std::stoi(std::string(month.substr(0, 4)));
  int m = std::stoi(std::string(month.substr(5, 2))) - 1 + delta;
  y += m >= 0 ? m / 12 : -((11 - m) / 12);
  m = ((m % 12) + 12) % 12;
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02d", y, m + 1);
  return out;
}
}  // namespace

std::string_view to_string(Tab tab) { return tab == Tab::Qualified ? "qualified" : "marketplace"; }

std::string month_of(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1);
  return out;
}

bool month_start(std::string_view month, std::int64_t& ms) {
  if (month.size() != 7 || month[4] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6}) {
    if (!std::isdigit(static_cast<unsigned char>(month[i]))) return false;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(std::string(month.substr(0, 4))) - 1900;
  tm.tm_mon = std::stoi(std::string(month.substr(5, 2))) - 1;
  tm.tm_mday = 1;
  if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11) return false;
  ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  return true;
}

std::vector<std::string> Range::full_months() const {
  std::vector<std::string> out;
  for (const auto& m : months) {
    if (m != partial) out.push_back(m);
  }
  return out;
}

Problem parse_query(std::string_view query, std::int64_t now_ms, Query& q) {
  std::string range = "3M", from, to;
  bool values_given = false;
  for (const auto& param : util::query_params(query)) {
    // Named apart: clang 14 does not let lambdas capture structured bindings.
    const std::string& key = param.first;
    const std::string& value = param.second;
    const auto problem = [&](std::string message) { return Problem{key, std::move(message)}; };
    const auto list = [&](std::vector<std::string>& into, const Choices* choices) -> std::string {
      auto values = util::split_list(value);
      if (values.empty()) return "give at least one value";
      for (const auto& v : values) {
        if (choices != nullptr) {
          if (auto bad = one_of(v, *choices); !bad.empty()) return bad;
        } else if (v.size() > 200) {
          return "a value is at most 200 characters";
        }
      }
      into.insert(into.end(), values.begin(), values.end());
      return {};
    };
    std::string bad;
    if (key == "range") {
      bad = one_of(value, kRanges);
      range = value;
    } else if (key == "from" || key == "to") {
      std::int64_t ms = 0;
      if (!month_start(value, ms)) bad = "'" + value + "' is not a month; use YYYY-MM, such as 2026-03";
      (key == "from" ? from : to) = value;
    } else if (key == "tab") {
      bad = one_of(value, kTabs);
      q.tab = value == "qualified" ? Tab::Qualified : Tab::Marketplace;
    } else if (key == "customer") {
      bad = list(q.filter.customer, nullptr);
    } else if (key == "country") {
      bad = list(q.filter.country, nullptr);
      for (auto& v : q.filter.country) {
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
        if (bad.empty() && (v.size() != 2 || !std::isalpha(static_cast<unsigned char>(v[0])) ||
                            !std::isalpha(static_cast<unsigned char>(v[1])))) {
          bad = "'" + v + "' is not an ISO 3166-1 alpha-2 code such as US or DE";
        }
      }
    } else if (key == "lead_type") {
      bad = list(q.filter.lead_type, &kLeadTypes);
    } else if (key == "offer") {
      bad = list(q.filter.offer, nullptr);
    } else if (key == "program") {
      bad = list(q.filter.program, nullptr);
    } else if (key == "by") {
      bad = one_of(value, kBy);
      q.by = value;
    } else if (key == "measure") {
      bad = one_of(value, kMeasures);
      q.measure = value;
    } else if (key == "values") {
      values_given = true;
      bad = list(q.values, nullptr);
    } else {
      const auto suggestion = util::closest_match(key, kParameters);
      bad = "unknown parameter '" + key + "'" +
            (suggestion.empty() ? "; parameters are " + util::join_choices(kParameters)
                                : "; did you mean '" + std::string(suggestion) + "'?");
    }
    if (!bad.empty()) return problem(bad);
  }

  const auto current = month_of(now_ms);
  auto& r = q.range;
  r.name = range;
  std::string first, last = current;
  if (range == "custom") {
    if (from.empty() || to.empty()) return {from.empty() ? "from" : "to", "a custom range needs from and to (YYYY-MM)"};
    if (from > to) return {"from", "must not be after to"};
    if (from > current) return {"from", "is after the current month (" + current + ")"};
    first = from;
    last = std::min(to, current);
  } else {
    if (!from.empty() || !to.empty()) return {from.empty() ? "to" : "from", "only a custom range takes from and to"};
    first = add_months(current, -(range[0] - '0'));
  }
  for (auto m = first; m <= last; m = add_months(m, 1)) {
    r.months.push_back(m);
    if (static_cast<int>(r.months.size()) > kMaxCustomMonths) {
      return {"from", "a range is at most " + std::to_string(kMaxCustomMonths) + " months"};
    }
  }
  if (last == current) r.partial = current;
  month_start(first, r.from_ms);
  month_start(add_months(last, 1), q.filter.until_ms);
  r.to_ms = std::min(q.filter.until_ms, now_ms);

  if (values_given && q.by != "country" && q.by != "offer" && q.by != "program") {
    return {"values", "values picks countries, offers or programs; by=" + q.by + " shows all of its values"};
  }
  if (q.values.size() > 3) return {"values", "compare at most 3 " + q.by + " values"};
  if (q.by == "country") {
    for (auto& v : q.values) std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  }

  q.filter.from_month = first;
  q.filter.to_month = last;
  q.filter.from_ms = r.from_ms;
  q.filter.classification = q.tab == Tab::Qualified
                                ? std::vector<std::string>{"marketing_qualified", "sales_qualified"}
                                : std::vector<std::string>{"customer_inquiry"};
  return {};
}

}  // namespace leadrelay::insights
