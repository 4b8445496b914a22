// Fuzz target: what a leads API client sends. The input's first byte picks the action, the rest up to a newline is a
// query string (filters, cursor, export parameters), the rest a change body. Each is parsed as the API parses it; a
// body that parses is applied to a lead in every status, and the result is written as a lead event and as the
// lifecycle the API shows (no contact data, well-formed JSON). The query is also read as the insights read theirs,
// and every widget is computed over cells made of the body's bytes in the months it names: well-formed JSON.
#include <rapidjson/document.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/api/export.hpp"
#include "daemon/api/lead_query.hpp"
#include "daemon/insights/widgets.hpp"
#include "daemon/lifecycle/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadrelay;
  if (size == 0) return 0;
  constexpr lifecycle::Action kActions[] = {lifecycle::Action::Accept, lifecycle::Action::Decline,
                                            lifecycle::Action::Win,    lifecycle::Action::Lose,
                                            lifecycle::Action::Update, lifecycle::Action::Expire,
                                            lifecycle::Action::Favorite};
  const auto action = kActions[data[0] % std::size(kActions)];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto newline = input.find('\n');
  const auto query = input.substr(0, newline);
  const auto body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  store::LeadFilter filter;
  std::vector<std::string> extra;
  (void)api::parse_lead_query(query, filter, 500, {"format"}, &extra);
  if (filter.limit < 1 || filter.limit > 500) std::abort();
  (void)api::export_cell(query, api::ExportFormat::Csv);
  (void)api::export_cell(body, api::ExportFormat::Tsv);

  insights::Query iq;
  const std::int64_t now = 1764547200000 + static_cast<std::int64_t>(data[0]) * 86400000LL * 7;
  if (insights::parse_query(query, now, iq).message.empty()) {
    const auto& months = iq.range.months;
    if (months.empty() || months.size() > 37 || iq.range.from_ms >= iq.range.to_ms) std::abort();
    static const char* kStatuses[] = {"Received", "Accepted", "Declined", "Won", "Lost", "Expired", "Informational"};
    static const char* kCurrencies[] = {"", "USD", "EUR", "JPY"};
    std::vector<store::InsightCell> cells;
    for (std::size_t i = 0; i + 1 < body.size() && cells.size() < 64; i += 2) {
      const auto a = static_cast<unsigned char>(body[i]), b = static_cast<unsigned char>(body[i + 1]);
      store::InsightCell c;
      c.month = months[a % months.size()];
      c.status = kStatuses[b % 7];
      c.currency = kCurrencies[a % 4];
      c.lead_type = b & 8 ? "profile" : "offer";
      c.call_to_action = b & 16 ? "ContactMe" : "GetItNow";
      c.country = std::string(1, static_cast<char>('A' + a % 26)) + "Z";
      c.offer = std::string(body.substr(i, 2));
      c.program = b & 32 ? "Contact request" : "";
      c.lead_source = a & 1 ? "AppSource" : "AzureMarketplace";
      c.classification = "customer_inquiry";
      c.reason = b & 64 ? "Others" : "";
      c.accept_bucket = static_cast<int>(a % 9) - 1;
      c.win_bucket = static_cast<int>(b % 8) - 1;
      c.n = static_cast<std::int64_t>(a) - 20;  // also negative and zero: a roll-up mid-change must not break them
      c.value = static_cast<double>(b) * 10.5;
      c.accept_ms = static_cast<std::int64_t>(a) * 3600000;
      c.win_ms = static_cast<std::int64_t>(b) * 86400000;
      cells.push_back(std::move(c));
    }
    const insights::UsdRates rates = {{"EUR", 1.08}};
    for (const auto widget : insights::kWidgets) {
      const auto doc = insights::widget(widget, {iq, cells, rates, !cells.empty(), {}});
      rapidjson::Document d;
      d.Parse(doc.data(), doc.size());
      if (d.HasParseError() || !d.IsObject() || !d.HasMember("range")) std::abort();
    }
  }

  lifecycle::ChangeRequest request;
  if (!api::parse_change_body(body, action, request).message.empty()) return 0;
  for (auto status : {model::Status::Received, model::Status::Accepted, model::Status::Won,
                      model::Status::Informational}) {
    model::Lifecycle before;
    before.status = status;
    before.received_at_ms = 1764547200000;
    before.expires_at_ms = status == model::Status::Received ? before.received_at_ms + 86400000 : 0;
    const auto result = lifecycle::apply(before, request, before.received_at_ms + 1000);
    if (result.kind != lifecycle::ChangeResult::Kind::Applied) continue;
    if (result.after.version != before.version + 1) std::abort();
    const auto event = lifecycle::event_json({"lead", action, &before, &result.after, &result.changed, "fuzz", 1});
    const auto shown = lifecycle::lifecycle_json(result.after, before.received_at_ms);
    for (const auto* json : {&event, &shown}) {
      rapidjson::Document d;
      d.Parse(json->data(), json->size());
      if (d.HasParseError() || !d.IsObject()) std::abort();
    }
  }
  return 0;
}
