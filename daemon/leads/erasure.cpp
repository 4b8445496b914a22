// Changes::erase: a person's contact data out of the store, and a lead-erased event for everyone who has a copy.
#include <future>

#include "daemon/leads/changes.hpp"
#include "daemon/lifecycle/event.hpp"
#include "daemon/log/log.hpp"

namespace leadrelay::leads {

ErasureOutcome Changes::erase(const std::vector<store::LeadRow>& leads, std::string_view actor, std::int64_t now_ms) {
  ChangeDestinations targets;
  {
    std::lock_guard lock(mutex_);
    targets = destinations_;
  }
  ErasureOutcome outcome;
  store::DeliveryTotals cancelled;
  std::pair<std::int64_t, std::int64_t> queued;
  outcome.stored = journal_.write([&](store::Transaction& tx, std::string& error) {
    outcome.lead_ids.clear();
    outcome.events = 0;
    cancelled = {};
    queued = {0, 0};
    for (std::size_t i = 0; i < leads.size(); ++i) {
      auto row = tx.lead(leads[i].lead_id, error);
      if (!row) {
        if (!error.empty()) return false;
        continue;  // gone meanwhile
      }
      // The stored message key (pipeline::message_key): the email, else the phone, else the lead id; the person
      // keys start with it. Read before it goes.
      const std::string key = row->msg_key;
      const auto prefix = key == row->lead_id ? std::string() : key + "|";
      if (!tx.remove_contact_data(row->seq, row->lead_id, prefix, now_ms, cancelled, error)) return false;
      auto after = row->lifecycle;
      after.notes.clear();
      after.version = row->lifecycle.version + 1;
      const std::vector<std::string> changed = {"contact"};
      store::LeadEvent event;
      event.version = after.version;
      event.at_ms = now_ms;
      event.actor = std::string(actor);
      event.json = lifecycle::event_json({row->lead_id, lifecycle::Action::Erase, &row->lifecycle, &after, &changed,
                                          actor, now_ms, row->referral_id});
      // Everyone who has the lead hears of it: the events topic, and each CRM sink it went to deletes its record.
      std::vector<std::string> destinations;
      std::vector<std::string> by_email;
      if (!targets.events.empty()) destinations.push_back(targets.events);
      std::vector<std::string> had;
      if (!tx.lead_destinations(row->seq, had, error)) return false;
      for (auto& d : had) {
        if (targets.crm_sinks.count(d) == 0) continue;
        if (targets.email_keyed_sinks.count(d) > 0 && key.find('@') != std::string::npos) {
          by_email.push_back(std::move(d));
        } else {
          destinations.push_back(std::move(d));
        }
      }
      if (!tx.record_change(row->seq, after, event, row->lead_id, destinations, error)) return false;
      for (const auto& d : by_email) {
        if (!tx.add_event_delivery(row->seq, event.id, d, key, static_cast<std::int64_t>(event.json.size()), error)) {
          return false;
        }
      }
      const auto sent = static_cast<std::int64_t>(destinations.size() + by_email.size());
      outcome.events += sent;
      queued.first += sent;
      queued.second += sent * static_cast<std::int64_t>(event.json.size());
      outcome.lead_ids.push_back(row->lead_id);
    }
    return true;
  });
  if (!outcome.stored) return outcome;
  backlog_.remove(cancelled.count, cancelled.bytes);
  if (queued.first > 0) {
    backlog_.add(queued.first, queued.second);
    if (on_deliveries_) on_deliveries_();
  }
  for (const auto& id : outcome.lead_ids) {
    log::info("lead_erased", {log::safe("lead_id", id), log::safe("actor", std::string(actor))});
  }
  // The erased bytes may still sit in WAL frames: fold them into the database (where secure_delete zeroed them)
  // and truncate the WAL.
  auto truncated = std::make_shared<std::promise<bool>>();
  auto done = truncated->get_future();
  journal_.truncate_wal([truncated](bool ok) { truncated->set_value(ok); });
  outcome.wal_truncated = done.get();
  return outcome;
}

}  // namespace leadrelay::leads
