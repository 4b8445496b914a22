#include "daemon/leads/changes.hpp"

#include "daemon/lifecycle/event.hpp"
#include "daemon/log/log.hpp"

namespace leadrelay::leads {
using namespace lifecycle;  // the rules this room applies

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
  ChangeDestinations targets;
  {
    std::lock_guard lock(mutex_);
    targets = destinations_;
  }
  ChangeOutcome outcome;
  std::int64_t queued = 0, queued_bytes = 0;
  std::string before_status;
  const bool committed = journal_.write([&](store::Transaction& tx, std::string& error) {
    // Runs on the writer thread, inside its transaction: a retry of the whole transaction (a failed commit)
    // decides again from scratch.
    outcome = ChangeOutcome{};
    queued = queued_bytes = 0;
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
    if (result.after.status != row->lifecycle.status) {
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
                             now_ms});
    if (!tx.record_change(row->seq, result.after, event, row->msg_key, destinations, error)) return false;
    before_status = std::string(model::to_string(row->lifecycle.status));
    outcome.kind = ChangeOutcome::Kind::Applied;
    outcome.lifecycle = std::move(result.after);
    outcome.event_id = event.id;
    queued = static_cast<std::int64_t>(destinations.size());
    queued_bytes = queued * static_cast<std::int64_t>(event.json.size());
    return true;
  });
  if (!committed) {
    ChangeOutcome refused;
    refused.kind = ChangeOutcome::Kind::Unavailable;
    refused.problem = "the store did not accept the change (is the disk full?); nothing was changed";
    return refused;
  }
  if (outcome.kind == ChangeOutcome::Kind::Applied) {
    // Who changed what, never with contact data.
    log::info("lead_changed", {log::safe("lead_id", std::string(lead_id)), log::safe("action", to_string(request.action)),
                               log::safe("from", before_status),
                               log::safe("to", model::to_string(outcome.lifecycle.status)),
                               {"version", outcome.lifecycle.version}, log::safe("actor", std::string(actor))});
    if (queued > 0) {
      backlog_.add(queued, queued_bytes);
      if (on_deliveries_) on_deliveries_();
    }
  }
  return outcome;
}

}  // namespace leadrelay::leads
