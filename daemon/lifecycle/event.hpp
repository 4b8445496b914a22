#pragma once
// lead-event.v1 (schemas/lead-event.v1.json): one change of a lead's lifecycle as the CRM teams read it on Kafka.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/lifecycle/transitions.hpp"

namespace leadrelay::lifecycle {

inline constexpr std::string_view kEventSchema = "lead-event.v1";

struct EventFacts {
  std::string_view lead_id;
  Action action = Action::Accept;
  const model::Lifecycle* before = nullptr;
  const model::Lifecycle* after = nullptr;
  const std::vector<std::string>* changed = nullptr;  // field names (ChangeResult::changed)
  std::string_view actor;                             // the token's name, "leadrelay" (expiry), "partner-center"
  std::int64_t at_ms = 0;
  std::string_view referral_id = {};  // the lead's Partner Center referral, when it is one
};

// The actor of changes Partner Center made (webhook events and the poll).
inline constexpr std::string_view kPartnerCenterActor = "partner-center";

// {"schema","event_id","lead_id","version","action","from_status","to_status","changed":{field: new value},
//  "actor","at"[,"referral_id"]}: no contact data.
std::string event_json(const EventFacts& facts);

// The lifecycle as the leads API and events show it: {status, hot, hot_until, expires_at, accepted_at,
// closed_at, deal, reason, notes, favorite, version}.
std::string lifecycle_json(const model::Lifecycle& l, std::int64_t now_ms);

}  // namespace leadrelay::lifecycle
