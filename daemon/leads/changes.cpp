#include "daemon/leads/changes.hpp"

#include "daemon/lifecycle/event.hpp"
#include "daemon/log/log.hpp"

namespace leadrelay::leads {
using namespace lifecycle;  // the rules this room applies

namespace {

// One lead's change, decided and written inside the writer's transaction. False (with `error`) only when the store
// failed; a refused change is an outcome. `queued` counts the event's deliveries and their bytes.
bool decide(store::Transaction& tx, std::string_view lead_id, const ChangeRequest& request,
            std::optional<std::int64_t> if_match, std::string_view actor, std::int64_t now_ms,
            const ChangeDestinations& targets, ChangeOutcome& outcome, std::string& from,
            std::pair<std::int64_t, std::int64_t>& queued, std::string& error) {
  outcome = ChangeOutcome{};
  auto row = tx.lead(lead_id, error);
  if (!row) {
    if (!error.empty()) return false;
    outcome.kind = ChangeOutcome::Kind::NotFound;
    return true;
  }
  outcome.lifecycle = row->lifecycle;
  if (if_match && *if_match != row->lifecycle.version) {
    outcome.kind = ChangeOutcome::Kind::Stale;
    return true;
  }
  auto result = apply(row->lifecycle, request, now_ms);
  switch (result.kind) {
    case ChangeResult::Kind::Conflict: outcome.kind = ChangeOutcome::Kind::Conflict; return true;
    case ChangeResult::Kind::Unchanged: outcome.kind = ChangeOutcome::Kind::Unchanged; return true;
    case ChangeResult::Kind::Invalid:
      outcome.kind = ChangeOutcome::Kind::Invalid;
      outcome.field = result.field;
      outcome.problem = result.problem;
      return true;
    case ChangeResult::Kind::Applied: break;
  }
  std::vector<std::string> destinations;
  if (!targets.events.empty()) destinations.push_back(targets.events);
  // A person's answer to a referral goes back to Partner Center; Partner Center's own word, the expiry (Partner
  // Center expires its referrals itself) and favorites do not.
  const bool answer = request.action == Action::Accept || request.action == Action::Decline ||
                      request.action == Action::Win || request.action == Action::Lose ||
                      request.action == Action::Update;
  if (answer && !row->referral_id.empty() && !targets.partner_center.empty() && actor != kPartnerCenterActor) {
    destinations.push_back(targets.partner_center);
  }
  if (result.after.status != row->lifecycle.status && !targets.crm_sinks.empty()) {
    std::vector<std::string> had;
    if (!tx.lead_destinations(row->seq, had, error)) return false;
    for (auto& d : had) {
      if (targets.crm_sinks.count(d) > 0) destinations.push_back(std::move(d));
    }
  }
  store::LeadEvent event;
  event.version = result.after.version;
  event.at_ms = now_ms;
  event.actor = std::string(actor);
  event.json = event_json({row->lead_id, request.action, &row->lifecycle, &result.after, &result.changed, actor,
                           now_ms, row->referral_id});
  if (!tx.record_change(row->seq, result.after, event, row->msg_key, destinations, error)) return false;
  from = std::string(model::to_string(row->lifecycle.status));
  outcome.kind = ChangeOutcome::Kind::Applied;
  outcome.lifecycle = std::move(result.after);
  outcome.event_id = event.id;
  queued.first += static_cast<std::int64_t>(destinations.size());
  queued.second += static_cast<std::int64_t>(destinations.size() * event.json.size());
  return true;
}

}  // namespace

Changes::Changes(store::Journal& journal, outbox::Backlog& backlog, ChangeDestinations destinations,
                 std::function<void()> on_deliveries)
    : journal_(journal),
      backlog_(backlog),
      on_deliveries_(std::move(on_deliveries)),
      destinations_(std::move(destinations)) {}

void Changes::set_destinations(ChangeDestinations destinations) {
  std::lock_guard lock(mutex_);
  destinations_ = std::move(destinations);
}

ChangeOutcome Changes::change(std::string_view lead_id, const ChangeRequest& request,
                              std::optional<std::int64_t> if_match, std::string_view actor, std::int64_t now_ms) {
  auto outcomes = change_all({std::string(lead_id)}, request, if_match, actor, now_ms);
  return std::move(outcomes.front());
}

std::vector<ChangeOutcome> Changes::change_all(const std::vector<std::string>& lead_ids, const ChangeRequest& request,
                                               std::optional<std::int64_t> if_match, std::string_view actor,
                                               std::int64_t now_ms) {
  ChangeDestinations targets;
  {
    std::lock_guard lock(mutex_);
    targets = destinations_;
  }
  std::vector<ChangeOutcome> outcomes(lead_ids.size());
  std::vector<std::string> from(lead_ids.size());
  std::pair<std::int64_t, std::int64_t> queued;
  // Runs on the writer thread, inside its transaction: a retry of the whole transaction decides again.
  const bool committed = journal_.write([&](store::Transaction& tx, std::string& error) {
    queued = {0, 0};
    for (std::size_t i = 0; i < lead_ids.size(); ++i) {
      if (!decide(tx, lead_ids[i], request, if_match, actor, now_ms, targets, outcomes[i], from[i], queued, error)) {
        return false;
      }
    }
    return true;
  });
  if (!committed) {
    ChangeOutcome refused;
    refused.kind = ChangeOutcome::Kind::Unavailable;
    refused.problem = "the store did not accept the change (is the disk full?); nothing was changed";
    return std::vector<ChangeOutcome>(lead_ids.size(), refused);
  }
  for (std::size_t i = 0; i < lead_ids.size(); ++i) {
    if (outcomes[i].kind != ChangeOutcome::Kind::Applied) continue;
    // Who changed what, never with contact data.
    log::info("lead_changed", {log::safe("lead_id", lead_ids[i]), log::safe("action", to_string(request.action)),
                               log::safe("from", from[i]), log::safe("to", model::to_string(outcomes[i].lifecycle.status)),
                               {"version", outcomes[i].lifecycle.version}, log::safe("actor", std::string(actor))});
  }
  if (queued.first > 0) {
    backlog_.add(queued.first, queued.second);
    if (on_deliveries_) on_deliveries_();
  }
  return outcomes;
}

}  // namespace leadrelay::leads
