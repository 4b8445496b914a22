#pragma once
// The lifecycle's rules, as plain functions over model::Lifecycle (no I/O, no clock: `now` is an argument), so
// that the transition table is tested pair by pair and the store, the API and the expiry worker share one truth.
//
//   Received ──accept──▶ Accepted ──win──▶ Won
//      │                    │  ▲
//      ├──decline──▶ Declined   └─update─┘ (deal fields)   Accepted ──lose──▶ Lost
//      └──(response_window passes)──▶ Expired
//   Informational: no transitions. Declined, Won, Lost, Expired: final.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/model/lead.hpp"
#include "daemon/model/lifecycle.hpp"

namespace leadrelay::lifecycle {

struct Windows {
  std::chrono::milliseconds response_window{std::chrono::hours(24 * 14)};
  std::chrono::milliseconds hot_window{std::chrono::hours(72)};
};

// What a person or tool asks for. Expire is the daemon's own (the response window passed); Favorite/Unfavorite
// change no status; Sync is Partner Center's word on a referral (its status and deal, applied as it says).
// Erase: the person's contact data was removed on request (leads::Changes::erase; never through apply).
enum class Action { Accept, Decline, Win, Lose, Update, Expire, Favorite, Unfavorite, Sync, Erase };
std::string_view to_string(Action action);

// The actions a person may take on a lead in `status` (Expire, Favorite and Unfavorite are not listed).
std::vector<Action> allowed_actions(model::Status status);

// The fields a change may carry; absent ones are left as they are.
struct ChangeRequest {
  Action action = Action::Accept;
  std::optional<std::string> deal_name, currency, close_date, crm_id, campaign_id, reason, notes;
  std::optional<double> deal_value;
  std::optional<std::vector<std::string>> team;
  std::optional<model::Status> to_status;  // Sync: the status Partner Center gives the referral
};

struct ChangeResult {
  enum class Kind {
    Applied,    // `after` is the new lifecycle
    Unchanged,  // nothing to do (favorite twice): `after` is the same, no version bump
    Conflict,   // the action is not allowed in the current status (HTTP 409)
    Invalid,    // a field is missing or wrong (HTTP 400): `field` and `problem`
  };
  Kind kind = Kind::Applied;
  model::Lifecycle after;
  std::vector<std::string> changed;  // the lifecycle fields this change set, in a stable order
  std::string field, problem;
};

// Needs a partner's answer: Contact me, profile and qualified leads (never a do-not-contact notice, nor Partner
// Center's validation lead).
bool needs_action(const model::Lead& lead);

// A new lead's lifecycle: Received (expiring after the response window) or Informational; hot for the hot window
// when the customer asked to be contacted.
// A referral's lifecycle starts in the status Partner Center gives it (Accepted, Won, ... when it was answered
// there first).
model::Lifecycle initial(const model::Lead& lead, const Windows& windows);

// Partner Center's status and substatus as a lead status (New/Pending|Received → Received, Active/Accepted →
// Accepted, Closed/Won|Lost|Declined|Expired → the same); nullopt for values it does not know (kept, never fatal).
std::optional<model::Status> referral_status(std::string_view status, std::string_view substatus);
// The other way: Partner Center's status and substatus for a lead status (empty for Informational).
std::pair<std::string_view, std::string_view> partner_center_status(model::Status status);

// The change Partner Center's side of a referral lead asks for: Sync to the status its status/substatus give
// (to_status empty when leadrelay does not know that status: nothing is applied), with its deal fields; while
// Received only the customer's estimate (value, currency, close date), once answered also the deal name, notes and
// the decline/lost reason.
ChangeRequest referral_sync(const model::Lead& lead);

// Applies `request` at `now_ms`; the version goes up by one when applied. Sync sets the status and the deal fields
// it carries without the field rules of a person's change (Partner Center has decided); it may skip steps (Received
// to Won) but never leaves a final status nor returns to Received.
ChangeResult apply(const model::Lifecycle& before, const ChangeRequest& request, std::int64_t now_ms);

// True when `l` is Received and its response window has passed at `now_ms` (the deadline itself included).
bool overdue(const model::Lifecycle& l, std::int64_t now_ms);

// A close reason as a person may give it: its label (any case) or its number 1-8; the label, or empty.
std::string close_reason(std::string_view given);

}  // namespace leadrelay::lifecycle
