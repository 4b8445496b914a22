// /api/v1/insights/<widget>: the console's lead insights (daemon/insights/), for viewers. No contact data: the
// figures are counts and sums, so reading them is not audited.
#include <algorithm>

#include "daemon/api/leads_api.hpp"
#include "daemon/api/responses.hpp"
#include "daemon/insights/query.hpp"
#include "daemon/log/log.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::api {

void LeadsApi::set_usd_rates(insights::UsdRates rates) {
  std::lock_guard lock(mutex_);
  usd_rates_ = std::move(rates);
}

http::AdminResponse LeadsApi::insights(const http::AdminRequest& req, std::string_view widget) {
  const auto& widgets = insights::kWidgets;
  if (std::find(widgets.begin(), widgets.end(), widget) == widgets.end()) {
    return error(404, "not_found", "insights are " + util::join_choices(widgets), "widget");
  }
  insights::Query query;
  if (const auto p = insights::parse_query(req.query, log::now_unix_ms(), query); !p.message.empty()) {
    return error(400, "bad_request", p.message, p.field);
  }
  insights::UsdRates rates;
  {
    std::lock_guard lock(mutex_);
    rates = usd_rates_;
  }
  Lease store(*this);
  if (!store) return store_unavailable(store.error);
  std::vector<store::InsightCell> cells;
  store::PastLeads past;
  bool any = true;
  std::string problem;
  {
    auto snapshot = store->snapshot();
    if (!store->insight_cells(query.filter, insights::columns(widget, query), cells, problem,
                              widget == "funnel" ? &past : nullptr)) {
      return store_unavailable(problem);
    }
    if (cells.empty()) any = store->any_lifecycle();
  }
  auto r = json(200, insights::widget(widget, {query, cells, rates, any, past}));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace leadrelay::api
