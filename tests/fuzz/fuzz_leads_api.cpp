// Fuzz target: what a leads API client sends. The input's first byte picks the action, the rest up to a newline is a
// query string (filters, cursor, export parameters), the rest a change body. Each is parsed as the API parses it; a
// body that parses is applied to a lead in every status, and the result is written as a lead event and as the
// lifecycle the API shows (no contact data, well-formed JSON).
#include <rapidjson/document.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/api/export.hpp"
#include "daemon/api/lead_query.hpp"
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
