#pragma once
// The writes other rooms make beside intake's appends: each runs inside the journal writer's next transaction
// (store::WriteJob), so it shares intake's commit and fsync, and all of it commits or none.
#include <cstdint>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/records.hpp"

struct sqlite3;

namespace leadrelay::store {
namespace detail {
class Statements;
}

class Transaction {
 public:
  explicit Transaction(sqlite3* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // The pipeline's outcome for a batch of leads: routed rows, one pending delivery per destination, the
  // person-and-offer states, and the pipeline's cursor (the last seq of the batch).
  // Adds the deliveries it made (the destinations' and the notifications') to `added`, when given.
  bool record_routing(std::span<const RoutingRecord> records, std::int64_t cursor, std::string& error,
                      DeliveryTotals* added = nullptr);
  // A notification the notify worker made, with one delivery per destination; nothing when its key is stored
  // already (`created` false). A digest marks the day's held leads as digested.
  bool record_notification(const Notification& n, std::int64_t now_ms, bool& created, DeliveryTotals& added,
                           std::string& error);
  // Expired person keys, at most 1000 (a slice, so no commit waits on a big delete).
  bool prune_person_keys(std::int64_t before_ms, std::string& error);
  // The same for redelivery keys (intake prunes them as leads arrive; retention when none do).
  bool prune_replay_keys(std::int64_t before_ms, std::string& error);
  // Delivered or dead-lettered.
  bool ack_deliveries(std::span<const DeliveryAck> acks, std::int64_t now_ms, std::string& error);
  // Queues the matching dead letters again as fresh deliveries (the old rows are kept, marked replayed); sets how
  // many and their bytes.
  bool replay_dead_letters(const DeadLetterFilter& filter, std::int64_t& count, std::int64_t& bytes,
                           std::string& error);

  // Removes the contact data of lead `seq` from every table (store/schema.cpp kSchema6): its raw body and lead.v1
  // document (contact fields nulled; offer, country, verdicts and deal kept for the figures), its redelivery and
  // person keys (`person_prefix`: "<email or phone>|"), the message keys and error texts of its deliveries, its
  // notifications' documents (and those of digests that list it), and notes in its history. Pending deliveries of
  // the lead and of those notifications are cancelled (state 5) and counted in `cancelled`. The next commit then
  // folds the WAL away (Journal::truncate_wal_after_commit), so that no old page keeps the bytes.
  // `keys`: also look through the redelivery and person keys (they hold the person's address only within their
  // windows, and have no index by lead: an erasure looks, retention, long past the windows, need not).
  bool remove_contact_data(std::int64_t seq, const std::string& lead_id, const std::string& person_prefix,
                           std::int64_t now_ms, DeliveryTotals& cancelled, std::string& error, bool keys = true);

  // Deletes lead `seq` whole: its rows in every table (retention's `leads` period). Pending deliveries are left
  // (the caller picks leads without any).
  bool delete_lead(std::int64_t seq, std::string& error);

  // One more delivery of a stored event (`event_id`) to `destination`, keyed with `msg_key`.
  bool add_event_delivery(std::int64_t seq, std::int64_t event_id, std::string_view destination,
                          std::string_view msg_key, std::int64_t bytes, std::string& error);

  // A named position (a poll's watermark), kept with the transaction's other writes.
  bool set_cursor(std::string_view name, std::int64_t value, std::string& error);

  // Adds the companies of leads routed up to `seq` to the customer filter's index (those since the last call).
  bool index_companies(std::int64_t seq, std::string& error);

  // A lead and its lifecycle as this transaction sees it (every earlier commit included): the state a change is
  // decided on. Without its lead.v1 document.
  std::optional<LeadRow> lead(std::string_view lead_id, std::string& error);
  // The destinations the lead itself was routed to ("kafka:leads.all", "sink:crm"), once each, sorted.
  bool lead_destinations(std::int64_t seq, std::vector<std::string>& out, std::string& error);
  // Stores a change of the lead `seq`: its new lifecycle, the event (its id is set), and one delivery of the
  // event to each of `destinations`, keyed with `msg_key`.
  bool record_change(std::int64_t seq, const model::Lifecycle& after, LeadEvent& event, std::string_view msg_key,
                     const std::vector<std::string>& destinations, std::string& error);

 private:
  // One arriving lead's notification: sent at once, or held for the digest (record_routing).
  bool request_notification(std::int64_t seq, const std::string& lead_id, const NotificationRequest& r,
                            std::int64_t now_ms, DeliveryTotals& added, std::string& error);
  bool insert_notification(const Notification& n, std::int64_t now_ms, bool& created, DeliveryTotals& added,
                           std::string& error);

  std::unique_ptr<detail::Statements> statements_;
};

}  // namespace leadrelay::store
