// Fuzz target: the pc-referral mappings over any JSON the body parser accepts: the webhook event (intake's
// check), the Referrals API resource onto the lead (then lead.v1 and its read-back), the lifecycle a referral
// starts with and the Sync it asks for, and the write-back of a lead-event.v1 document read as one.
#include <cstdint>
#include <string>

#include "connectors/pc_referral/pc_referral_format.hpp"
#include "daemon/intake/json_body.hpp"
#include "daemon/lifecycle/transitions.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadrelay;
  namespace pc = connectors::pc_referral;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  rapidjson::Document doc;
  intake::Rejection error;
  if (!intake::parse_json_object(body, doc, error)) return 0;
  model::Lead event_lead;
  if (pc::map_event(doc, event_lead, error) && event_lead.referral.id.empty()) __builtin_trap();
  pc::WriteBack change;
  std::string problem;
  if (pc::read_write_back(body, change, problem) && !change.patch.empty()) {
    rapidjson::Document patch;
    patch.Parse(change.patch.data(), change.patch.size());
    if (patch.HasParseError() || !patch.IsArray()) __builtin_trap();  // what we send must be a JSON Patch
    bool done = false;
    for (const auto* status : {"New", "Active", "Closed", ""}) {
      pc::ReferralState state{"r", "e", status, "Accepted"};
      if (pc::write_allowed(state, change, done) && state.closed() && !done) __builtin_trap();  // never to Closed
    }
  }
  model::Lead lead;
  lead.received_at_ms = 1764547200000;
  if (!pc::map_resource(doc, lead, error)) return 0;
  if (lead.referral.id.empty()) __builtin_trap();
  const auto json = model::to_json(lead);
  model::Lead back;
  if (!model::from_json(json, back, problem)) __builtin_trap();  // what we write we must read
  const auto start = lifecycle::initial(lead, {});
  if (const auto sync = lifecycle::referral_sync(lead); sync.to_status) {
    // Partner Center telling a fresh lead what it already is changes nothing.
    const auto again = lifecycle::apply(start, sync, lead.received_at_ms);
    if (again.kind == lifecycle::ChangeResult::Kind::Applied && again.after.status != start.status) __builtin_trap();
  }
  return 0;
}
