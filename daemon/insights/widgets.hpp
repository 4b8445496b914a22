#pragma once
// The lead insights (LIFECYCLE.md §5): one JSON document per console widget, computed from the insight cells of the
// leads a query selects. Pure functions, no I/O: daemon/api reads the cells and answers with these.
//
// Every document starts with the range ("range": months, the partial one, from and to) and the tab. A lead counts in
// the month it was received in (a cohort: its acceptance and win count with it). Won value is the deal values of
// Won leads in USD: other currencies through `rates` (units of USD per unit); values in a currency without a rate
// are listed apart under "unconverted", never added. When no lead matches, a document is the range and
// "no_data": {"reason": "no_leads" (none stored at all) | "no_match" (none match), "message"}.
#include <map>
#include <string>
#include <vector>

#include "daemon/insights/query.hpp"
#include "daemon/store/records.hpp"

namespace leadrelay::insights {

using UsdRates = std::map<std::string, double, std::less<>>;

struct Input {
  const Query& query;
  const std::vector<store::InsightCell>& cells;
  const UsdRates& rates;
  bool any_leads = true;       // whether the store holds any lead at all
  store::PastLeads past = {};  // funnel: leads received before the range and answered in it
};

// The widgets by name: summary, funnel, offers, geo, programs, reasons, compare.
inline const std::vector<std::string_view> kWidgets = {"summary", "funnel", "offers", "geo",
                                                        "programs", "reasons", "compare"};

// The cell columns the widget groups by (the store sums over the others), for Reader::insight_cells.
std::vector<std::string_view> columns(std::string_view widget, const Query& query);

// The widget's document; `widget` is one of kWidgets, over cells read with its columns().
std::string widget(std::string_view widget, const Input& in);

// Percentage change from `first` to `last` as JSON: a number (rounded to 0.1), "new" (0 to more) or 0 (both 0).
std::string change_json(double first, double last);

}  // namespace leadrelay::insights
