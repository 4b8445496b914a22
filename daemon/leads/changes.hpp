#pragma once
// Changing a lead's lifecycle: decided and stored inside one journal transaction (the writer's single thread
// orders every change, so two concurrent changes of one lead are applied one after the other, never both on the
// same version), with its lead-event.v1 row and the event's deliveries (the events topic, and each CRM that has
// the lead when its status moved). Answered only once committed.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/lifecycle/lifecycle_config.hpp"
#include "daemon/lifecycle/transitions.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/store/journal.hpp"

namespace leadrelay::leads {
using lifecycle::ChangeRequest;

struct ChangeOutcome {
  enum class Kind {
    Applied,      // committed (and its event queued)
    Unchanged,    // nothing to change; nothing written
    NotFound,     // no such lead (or it is not routed yet)
    Stale,        // If-Match named an older version (HTTP 412)
    Conflict,     // the action is not allowed in the lead's status (HTTP 409)
    Invalid,      // a field is missing or wrong (HTTP 400)
    Unavailable,  // the store refused the write (HTTP 503)
  };
  Kind kind = Kind::Unavailable;
  model::Lifecycle lifecycle;  // after the change (or as it is, for Stale / Conflict / Unchanged)
  std::string field, problem;  // Invalid; Unavailable: problem
  std::int64_t event_id = 0;   // Applied
};

struct ChangeDestinations {
  std::string events;               // "kafka:leads.events", or empty without Kafka
  std::set<std::string> crm_sinks;  // "sink:<name>" of every CRM sink
  std::string partner_center;       // "sink:partner-center" when referral changes are written back; else empty
  std::set<std::string> email_keyed_sinks;  // CRM sinks that find a record only by the person's email (HubSpot)
};

// What an erasure did: the leads whose contact data left the store, and whether the WAL was folded away after.
struct ErasureOutcome {
  bool stored = false;  // false: the store refused the write; nothing was erased
  std::vector<std::string> lead_ids;
  std::int64_t events = 0;  // lead-erased deliveries queued (events topic, CRM deletes)
  bool wal_truncated = false;
};

class Changes {
 public:
  Changes(store::Journal& journal, outbox::Backlog& backlog, ChangeDestinations destinations,
          std::function<void()> on_deliveries);

  // Applies `request` to the lead. `if_match`: the version the caller last saw (Stale when the lead has moved on).
  // `actor` names who asked (a token's name), for the event and the log; never contact data.
  ChangeOutcome change(std::string_view lead_id, const ChangeRequest& request, std::optional<std::int64_t> if_match,
                       std::string_view actor, std::int64_t now_ms);

  // The same change of several leads in one transaction (the expiry worker's batches); one outcome per lead.
  std::vector<ChangeOutcome> change_all(const std::vector<std::string>& lead_ids, const ChangeRequest& request,
                                        std::optional<std::int64_t> if_match, std::string_view actor,
                                        std::int64_t now_ms);

  // Erases the contact data of these leads (store::Transaction::remove_contact_data) and queues a lead-erased event
  // for each (lead-event.v1, action erase: to the events topic, and to every CRM sink the lead went to, which
  // deletes its record), in one transaction; then folds the WAL away. daemon/leads/erasure.cpp.
  ErasureOutcome erase(const std::vector<store::LeadRow>& leads, std::string_view actor, std::int64_t now_ms);

  void set_destinations(ChangeDestinations destinations);

 private:
  store::Journal& journal_;
  outbox::Backlog& backlog_;
  std::function<void()> on_deliveries_;
  std::mutex mutex_;
  ChangeDestinations destinations_;
};

}  // namespace leadrelay::leads
