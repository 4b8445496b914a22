#pragma once
// The insights' query string (the console's page URL: one for every widget, so that a copied link shows the same
// view): range=1M|3M|6M|custom (from, to: YYYY-MM for custom; default 3M), tab=marketplace|qualified and the filters
// customer, country, lead_type, offer, program (several values comma-separated), plus compare's by, measure and
// values. Ranges are whole calendar months: NM is the N months before the current one and the current one so far
// (marked partial), so that the first and last full months can be compared (15 June, 3M: May against March).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/records.hpp"

namespace leadrelay::insights {

enum class Tab { Marketplace, Qualified };

struct Range {
  std::string name;                 // 1M, 3M, 6M or custom
  std::vector<std::string> months;  // YYYY-MM, oldest first, every month of the range
  std::string partial;              // the month the range cuts (the current one), or empty
  std::int64_t from_ms = 0;         // the first month's start
  std::int64_t to_ms = 0;           // the last month's end, or now when it is the current one
  // The months that are whole (all but the partial one).
  std::vector<std::string> full_months() const;
};

struct Query {
  Range range;
  Tab tab = Tab::Marketplace;
  store::InsightFilter filter;      // the months, the tab's classifications and the filters
  std::string by = "lead_source";   // compare: lead_source, country, offer, call_to_action, classification, program
  std::string measure = "count";    // compare: count or value
  std::vector<std::string> values;  // compare: at most 3 countries, offers or programs
};

struct Problem {
  std::string field;    // the parameter
  std::string message;  // empty: no problem
};

// Parses `query` (percent-encoded) at `now_ms` (the daemon's clock) into `q`; the problem names the parameter.
Problem parse_query(std::string_view query, std::int64_t now_ms, Query& q);

// "YYYY-MM" of a Unix time in ms (UTC), and the start of such a month in ms (false when it is not one).
std::string month_of(std::int64_t ms);
bool month_start(std::string_view month, std::int64_t& ms);

std::string_view to_string(Tab tab);

}  // namespace leadrelay::insights
