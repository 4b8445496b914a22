#include "daemon/insights/widgets.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "daemon/util/json_write.hpp"

namespace leadrelay::insights {
namespace {
using store::InsightCell;
using util::json::Writer;

const char* const kAcceptBuckets[] = {"0-1", "2-3", "4-5", "6-7", "8-9", "10-11", "12-14", "14+"};
const char* const kWinBuckets[] = {"0-30", "31-60", "61-90", "91-120", "121-150", "151-180", "180+"};
constexpr double kDayMs = 86400000.0;

bool is_accepted(const InsightCell& c) { return c.status == "Accepted" || c.status == "Won" || c.status == "Lost"; }
bool is_won(const InsightCell& c) { return c.status == "Won"; }

// Rounded to `digits` decimals, half away from zero.
double round_to(double v, int digits) {
  const double scale = digits == 1 ? 10.0 : 100.0;
  return std::round(v * scale) / scale;
}

// The cell's deal values in USD; nullopt when its currency has no rate (0 when it has no deal value).
std::optional<double> to_usd(const InsightCell& c, const UsdRates& rates) {
  if (c.currency.empty()) return 0.0;
  if (c.currency == "USD") return c.value;
  if (const auto it = rates.find(c.currency); it != rates.end()) return c.value * it->second;
  return std::nullopt;
}

// Deal values in USD, and those without a rate apart, by currency.
struct Money {
  double usd = 0;
  std::map<std::string, double> unconverted;
  void add(const InsightCell& c, const UsdRates& rates) {
    if (const auto v = to_usd(c, rates)) {
      usd += *v;
    } else {
      unconverted[c.currency] += c.value;
    }
  }
  void merge(const Money& o) {
    usd += o.usd;
    for (const auto& [k, v] : o.unconverted) unconverted[k] += v;
  }
};

// A group's figures: leads, how many reached each stage, and their values.
struct Figures {
  std::int64_t leads = 0, accepted = 0, won = 0, expired = 0;
  Money accepted_value, won_value;
  std::map<std::string, std::int64_t> by_call_to_action;
  void add(const InsightCell& c, const UsdRates& rates) {
    leads += c.n;
    if (is_accepted(c)) {
      accepted += c.n;
      accepted_value.add(c, rates);
    }
    if (is_won(c)) {
      won += c.n;
      won_value.add(c, rates);
    }
    if (c.status == "Expired") expired += c.n;
    if (!c.call_to_action.empty()) by_call_to_action[c.call_to_action] += c.n;
  }
};

void number(Writer& w, std::string_view name, double v) {
  util::json::key(w, name);
  w.Double(round_to(v, 2));
}
void count(Writer& w, std::string_view name, std::int64_t v) {
  util::json::key(w, name);
  w.Int64(v);
}
void unconverted(Writer& w, const Money& m) {
  util::json::key(w, "unconverted");
  w.StartArray();
  for (const auto& [currency, value] : m.unconverted) {
    w.StartObject();
    util::json::string(w, "currency", currency);
    number(w, "value", value);
    w.EndObject();
  }
  w.EndArray();
}
void percent(Writer& w, std::string_view name, std::int64_t part, std::int64_t whole) {
  util::json::key(w, name);
  if (whole == 0) {
    w.Null();
  } else {
    w.Double(round_to(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1));
  }
}

class Document {
 public:
  explicit Document(const Input& in) : in_(in), w_(buffer_) {
    w_.StartObject();
    const auto& r = in.query.range;
    util::json::key(w_, "range");
    w_.StartObject();
    util::json::string(w_, "name", r.name);
    util::json::string(w_, "from", r.months.front());
    util::json::string(w_, "to", r.months.back());
    util::json::key(w_, "months");
    w_.StartArray();
    for (const auto& m : r.months) w_.String(m.c_str(), static_cast<rapidjson::SizeType>(m.size()));
    w_.EndArray();
    util::json::optional(w_, "partial", r.partial);
    w_.EndObject();
    util::json::string(w_, "tab", to_string(in.query.tab));
  }
  Writer& w() { return w_; }
  std::string done() {
    w_.EndObject();
    return std::string(buffer_.GetString(), buffer_.GetSize());
  }
  // The document of an empty answer.
  std::string no_data() {
    util::json::key(w_, "no_data");
    w_.StartObject();
    util::json::string(w_, "reason", in_.any_leads ? "no_match" : "no_leads");
    util::json::string(w_, "message", in_.any_leads ? "no lead matches the range, tab and filters"
                                                    : "no lead is stored yet");
    w_.EndObject();
    return done();
  }

 private:
  const Input& in_;
  rapidjson::StringBuffer buffer_;
  Writer w_;
};

std::size_t month_index(const Range& r, std::string_view month) {
  const auto it = std::find(r.months.begin(), r.months.end(), month);
  return static_cast<std::size_t>(it - r.months.begin());
}

// One figure per month of the range; `of` says what a cell adds.
std::vector<double> monthly(const Input& in, const std::function<double(const InsightCell&)>& of) {
  std::vector<double> out(in.query.range.months.size(), 0.0);
  for (const auto& c : in.cells) {
    const auto i = month_index(in.query.range, c.month);
    if (i < out.size()) out[i] += of(c);
  }
  return out;
}

double usd_of(const InsightCell& c, const UsdRates& rates) { return to_usd(c, rates).value_or(0.0); }

// `name`: the figures as an array, rounded to cents; their sum.
double series(Writer& w, std::string_view name, const std::vector<double>& figures) {
  util::json::key(w, name);
  w.StartArray();
  double total = 0;
  for (double v : figures) {
    w.Double(round_to(v, 2));
    total += v;
  }
  w.EndArray();
  return total;
}

std::string summary(const Input& in) {
  Document d(in);
  auto& w = d.w();
  const auto& r = in.query.range;
  const auto full = r.full_months();
  const bool qualified = in.query.tab == Tab::Qualified;
  using Pick = std::function<double(const InsightCell&)>;
  const auto n_if = [](std::function<bool(const InsightCell&)> p) -> Pick {
    return [p](const InsightCell& c) { return p(c) ? static_cast<double>(c.n) : 0.0; };
  };
  const Pick won_value = [&](const InsightCell& c) { return is_won(c) ? usd_of(c, in.rates) : 0.0; };
  const std::vector<std::pair<const char*, Pick>> tiles =
      qualified ? std::vector<std::pair<const char*, Pick>>{{"received", n_if([](const auto&) { return true; })},
                                                            {"accepted", n_if(is_accepted)},
                                                            {"won", n_if(is_won)},
                                                            {"won_value", won_value}}
                : std::vector<std::pair<const char*, Pick>>{
                      {"leads", n_if([](const auto&) { return true; })},
                      {"offer_leads", n_if([](const InsightCell& c) { return c.lead_type == "offer"; })},
                      {"profile_leads", n_if([](const InsightCell& c) { return c.lead_type == "profile"; })},
                      {"won_value", won_value}};
  util::json::key(w, "tiles");
  w.StartArray();
  for (const auto& [name, pick] : tiles) {
    const auto months = monthly(in, pick);
    w.StartObject();
    util::json::string(w, "name", name);
    double total = 0;
    for (double v : months) total += v;
    number(w, "value", total);
    series(w, "months", months);
    util::json::key(w, "change");
    if (full.size() < 2) {
      w.Null();
    } else {
      const auto json = change_json(months[month_index(r, full.front())], months[month_index(r, full.back())]);
      w.RawValue(json.c_str(), json.size(), rapidjson::kNumberType);
    }
    w.EndObject();
  }
  w.EndArray();
  Money all;
  for (const auto& c : in.cells) {
    if (is_won(c)) all.add(c, in.rates);
  }
  unconverted(w, all);
  return d.done();
}

void stage_values(Writer& w, const Figures& f) {
  util::json::key(w, "received");
  w.StartObject();
  count(w, "count", f.leads);
  w.EndObject();
  util::json::key(w, "accepted");
  w.StartObject();
  count(w, "count", f.accepted);
  number(w, "value", f.accepted_value.usd);
  w.EndObject();
  util::json::key(w, "won");
  w.StartObject();
  count(w, "count", f.won);
  number(w, "value", f.won_value.usd);
  w.EndObject();
  percent(w, "acceptance_rate", f.accepted, f.leads);
  percent(w, "win_rate", f.won, f.accepted);
}

std::string funnel(const Input& in) {
  Document d(in);
  auto& w = d.w();
  const bool qualified = in.query.tab == Tab::Qualified;
  // Leads that need an answer only: informational ones (Get it now, Free trial, Test drive) have no funnel.
  std::vector<std::pair<const char*, std::function<bool(const InsightCell&)>>> groups;
  if (qualified) {
    groups.emplace_back("qualified", [](const InsightCell&) { return true; });
  } else {
    groups.emplace_back("contact_me", [](const InsightCell& c) {
      return c.lead_type == "offer" && c.call_to_action == "ContactMe";
    });
    groups.emplace_back("profile", [](const InsightCell& c) { return c.lead_type == "profile"; });
  }
  Figures all;
  std::int64_t accept_n = 0, accept_ms = 0, win_n = 0, win_ms = 0;
  std::int64_t accept_buckets[8] = {}, win_buckets[7] = {};
  util::json::key(w, "groups");
  w.StartArray();
  for (const auto& [name, member] : groups) {
    Figures f;
    for (const auto& c : in.cells) {
      if (c.status == "Informational" || !member(c)) continue;
      f.add(c, in.rates);
      all.add(c, in.rates);
      if (c.accept_bucket >= 0 && c.accept_bucket < 8) {
        accept_buckets[c.accept_bucket] += c.n;
        accept_n += c.n;
        accept_ms += c.accept_ms;
      }
      if (c.win_bucket >= 0 && c.win_bucket < 7) {
        win_buckets[c.win_bucket] += c.n;
        win_n += c.n;
        win_ms += c.win_ms;
      }
    }
    w.StartObject();
    util::json::string(w, "name", name);
    stage_values(w, f);
    w.EndObject();
  }
  w.EndArray();
  util::json::key(w, "past_leads");
  w.StartObject();
  count(w, "accepted", in.past.accepted);
  count(w, "declined", in.past.declined);
  count(w, "won", in.past.won);
  count(w, "lost", in.past.lost);
  w.EndObject();
  const auto average_days = [&](std::string_view name, std::int64_t ms, std::int64_t n) {
    util::json::key(w, name);
    if (n == 0) {
      w.Null();
    } else {
      w.Double(round_to(static_cast<double>(ms) / static_cast<double>(n) / kDayMs, 1));
    }
  };
  average_days("average_acceptance_days", accept_ms, accept_n);
  average_days("average_days_to_win", win_ms, win_n);
  const auto buckets = [&](std::string_view name, const char* const* labels, const std::int64_t* counts, int size) {
    util::json::key(w, name);
    w.StartArray();
    for (int i = 0; i < size; ++i) {
      w.StartObject();
      util::json::string(w, "days", labels[i]);
      count(w, "count", counts[i]);
      w.EndObject();
    }
    w.EndArray();
  };
  buckets("acceptance_time", kAcceptBuckets, accept_buckets, 8);
  buckets("time_to_win", kWinBuckets, win_buckets, 7);
  unconverted(w, all.accepted_value);  // the won leads' values are among the accepted ones
  return d.done();
}

// Figures per value of one dimension of the cells (offer, country, program), most leads first; cells with no value
// there are left out.
std::vector<std::pair<std::string, Figures>> grouped(const Input& in, std::string InsightCell::*dimension) {
  std::map<std::string, Figures> by;
  for (const auto& c : in.cells) {
    if ((c.*dimension).empty()) continue;
    by[c.*dimension].add(c, in.rates);
  }
  std::vector<std::pair<std::string, Figures>> out(by.begin(), by.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second.leads > b.second.leads; });
  return out;
}

std::string table(const Input& in, const char* name, std::string InsightCell::*dimension, const char* key) {
  const auto rows = grouped(in, dimension);
  Document d(in);
  if (rows.empty()) return d.no_data();
  auto& w = d.w();
  Money all;
  util::json::key(w, name);
  w.StartArray();
  for (const auto& [value, f] : rows) {
    w.StartObject();
    util::json::string(w, key, value);
    count(w, "leads", f.leads);
    if (dimension == &InsightCell::offer) {
      util::json::key(w, "by_call_to_action");
      w.StartObject();
      for (const auto& [cta, n] : f.by_call_to_action) count(w, cta, n);
      w.EndObject();
    }
    count(w, "accepted", f.accepted);
    if (dimension == &InsightCell::program) {
      util::json::key(w, "expired");
      w.StartObject();
      count(w, "count", f.expired);
      percent(w, "share", f.expired, f.leads);
      w.EndObject();
    }
    count(w, "won", f.won);
    number(w, "won_value", f.won_value.usd);
    w.EndObject();
    all.merge(f.won_value);
  }
  w.EndArray();
  unconverted(w, all);
  return d.done();
}

std::string reasons(const Input& in) {
  Document d(in);
  auto& w = d.w();
  for (const char* status : {"Declined", "Lost"}) {
    std::map<std::string, std::int64_t> by;
    for (const auto& c : in.cells) {
      if (c.status == status) by[c.reason.empty() ? "Others" : c.reason] += c.n;
    }
    std::vector<std::pair<std::string, std::int64_t>> rows(by.begin(), by.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    util::json::key(w, status == std::string_view("Declined") ? "declined" : "lost");
    w.StartArray();
    for (const auto& [reason, n] : rows) {
      w.StartObject();
      util::json::string(w, "reason", reason);
      count(w, "count", n);
      w.EndObject();
    }
    w.EndArray();
  }
  return d.done();
}

std::string compare(const Input& in) {
  const auto& q = in.query;
  const std::map<std::string_view, std::string InsightCell::*> dimensions = {
      {"lead_source", &InsightCell::lead_source}, {"country", &InsightCell::country},
      {"offer", &InsightCell::offer},             {"call_to_action", &InsightCell::call_to_action},
      {"classification", &InsightCell::classification}, {"program", &InsightCell::program}};
  const auto dimension = dimensions.at(q.by);
  const bool by_value = q.measure == "value";
  const auto measure = [&](const InsightCell& c) {
    return by_value ? (is_won(c) ? usd_of(c, in.rates) : 0.0) : static_cast<double>(c.n);
  };
  std::map<std::string, double> totals;
  for (const auto& c : in.cells) {
    if (!(c.*dimension).empty()) totals[c.*dimension] += measure(c);
  }
  std::vector<std::string> values = q.values;
  const bool few = q.by == "country" || q.by == "offer" || q.by == "program";
  if (values.empty()) {
    std::vector<std::pair<std::string, double>> ranked(totals.begin(), totals.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [v, total] : ranked) {
      if (few && values.size() == 3) break;
      values.push_back(v);
    }
  }
  Document d(in);
  if (totals.empty()) return d.no_data();
  auto& w = d.w();
  util::json::string(w, "by", q.by);
  util::json::string(w, "measure", q.measure);
  const auto month_totals = monthly(in, [&](const InsightCell& c) { return (c.*dimension).empty() ? 0.0 : measure(c); });
  series(w, "totals", month_totals);
  util::json::key(w, "series");
  w.StartArray();
  for (const auto& value : values) {
    const auto months = monthly(in, [&](const InsightCell& c) { return c.*dimension == value ? measure(c) : 0.0; });
    w.StartObject();
    util::json::string(w, "value", value);
    const double total = series(w, "months", months);
    number(w, "total", total);
    util::json::key(w, "shares");
    w.StartArray();
    for (std::size_t i = 0; i < months.size(); ++i) {
      if (month_totals[i] == 0) {
        w.Null();
      } else {
        w.Double(round_to(100.0 * months[i] / month_totals[i], 1));
      }
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  Money all;
  for (const auto& c : in.cells) {
    if (is_won(c) && by_value) all.add(c, in.rates);
  }
  unconverted(w, all);
  return d.done();
}

}  // namespace

std::string change_json(double first, double last) {
  if (first == 0) return last > 0 ? "\"new\"" : "0";
  char out[32];
  std::snprintf(out, sizeof out, "%.1f", round_to(100.0 * (last - first) / first, 1));
  return out;
}

std::vector<std::string_view> columns(std::string_view widget, const Query& query) {
  if (widget == "summary") return {"month", "lead_type", "status", "currency"};
  if (widget == "funnel") return {"lead_type", "call_to_action", "status", "currency", "accept_bucket", "win_bucket"};
  if (widget == "offers") return {"offer", "call_to_action", "status", "currency"};
  if (widget == "geo") return {"country", "status", "currency"};
  if (widget == "programs") return {"program", "status", "currency"};
  if (widget == "reasons") return {"status", "reason"};
  return {"month", query.by, "status", "currency"};
}

std::string widget(std::string_view name, const Input& in) {
  std::int64_t leads = 0;
  for (const auto& c : in.cells) leads += c.n;
  if (leads == 0) return Document(in).no_data();
  if (name == "summary") return summary(in);
  if (name == "funnel") return funnel(in);
  if (name == "offers") return table(in, "offers", &InsightCell::offer, "offer");
  if (name == "geo") return table(in, "countries", &InsightCell::country, "country");
  if (name == "programs") return table(in, "programs", &InsightCell::program, "program");
  if (name == "reasons") return reasons(in);
  return compare(in);
}

}  // namespace leadrelay::insights
