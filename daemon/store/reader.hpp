#pragma once
// A read-only connection to the store, one per worker thread (the pipeline, each delivery worker, the admin
// listener), with its statements prepared once. Plain structs out; no SQL outside the store.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/records.hpp"

struct sqlite3;

namespace leadrelay::store {
namespace detail {
class Statements;
class ReadTransaction;
}  // namespace detail

class Reader {
 public:
  // Opens state_dir's store read-only; null with `error` when it cannot be read.
  // A reader serves one thread at a time (SQLite's multi-thread mode: no mutex taken per call).
  static std::unique_ptr<Reader> open(const std::filesystem::path& state_dir, std::string& error);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // The reads made while a Snapshot lives share one read transaction (one consistent view, one pair of WAL
  // read-lock system calls instead of one per statement). Keep it short: a reader left in the WAL holds it off.
  class Snapshot {
   public:
    explicit Snapshot(Reader& reader);
    ~Snapshot();
    Snapshot(Snapshot&&) noexcept;
    void end();

   private:
    std::unique_ptr<detail::ReadTransaction> transaction_;
  };
  Snapshot snapshot() { return Snapshot(*this); }

  // Where the pipeline stopped: the last lead seq it routed.
  std::int64_t pipeline_cursor();
  // A named position set with Transaction::set_cursor; `fallback` when there is none.
  std::int64_t cursor(std::string_view name, std::int64_t fallback = 0);
  // The lead made of Partner Center's referral `referral_id` (the newest, should there be two); empty when none is
  // routed yet.
  std::string referral_lead(std::string_view referral_id);
  // The last lead seq whose company is in the customer filter's index.
  std::int64_t company_index_cursor();
  // Pending deliveries over all destinations, and their bytes.
  std::pair<std::int64_t, std::int64_t> pending_totals();
  // Up to `limit` journaled leads after `after_seq`, in order.
  bool next_to_route(std::int64_t after_seq, int limit, std::vector<JournaledLead>& out, std::string& error);
  // The person-and-offer state under `key`, when there is one (expired or not).
  std::optional<PersonRecord> person(std::string_view key);
  // Up to `limit` pending deliveries after `after_id` for one destination ("sink:crm"), in order.
  bool pending_deliveries(std::string_view destination, std::int64_t after_id, int limit,
                          std::vector<PendingDelivery>& out, std::string& error);
  // The same for every Kafka topic at once ("kafka:*").
  bool pending_kafka_deliveries(std::int64_t after_id, int limit, std::vector<PendingDelivery>& out,
                                std::string& error);
  std::vector<DestinationBacklog> backlog_by_destination();
  // Newest first, at most 1000, without their leads.
  std::vector<DeadLetter> dead_letters(const DeadLetterFilter& filter);
  // One dead letter with its lead.
  std::optional<DeadLetter> dead_letter(std::int64_t id);

  // Leads matching `filter`, newest first, at most filter.limit, after filter.before_seq.
  bool leads(const LeadFilter& filter, std::vector<LeadRow>& out, std::string& error);
  // How many leads match `filter` (its cursor and limit aside); -1 when the store cannot say.
  std::int64_t count_leads(const LeadFilter& filter);
  // One lead with its lifecycle and lead.v1 document.
  std::optional<LeadRow> lead(std::string_view lead_id);
  // Its changes, oldest first.
  std::vector<LeadEvent> lead_history(std::int64_t seq);
  // Received leads that expire by `due_by_ms`, soonest first, at most `limit` (INT64_MAX: all waiting ones).
  bool waiting_leads(std::int64_t due_by_ms, int limit, std::vector<LeadRow>& out, std::string& error);

  // The leads of one person whose contact data is still stored: by email (any case), by phone (its digits, with a
  // leading + when given: matched against the message key, the normalized E.164 number and the digits as sent), or
  // one lead by id. Oldest first. A scan of every routed lead: for the rare erasure and subject-access requests.
  bool person_leads(std::string_view email, std::string_view phone, std::string_view lead_id,
                    std::vector<LeadRow>& out, std::string& error);

  // Retention (leads/retention.hpp): leads whose contact data is due to go, oldest first: answered or closed leads
  // that arrived before `answered_before`, informational ones before `informational_before` (0: none), none with
  // a pending delivery.
  bool retention_due(std::int64_t answered_before, std::int64_t informational_before, int limit,
                     std::vector<LeadRow>& out, std::string& error);
  // Leads that arrived before `before` and still keep their contact data because they wait (Received, or a pending
  // delivery).
  bool retention_waiting(std::int64_t before, std::int64_t& count, std::string& error);
  // How many leads keep their contact data, and how many had it removed.
  void contact_counts(std::int64_t& kept, std::int64_t& removed);
  // Leads (seq) that arrived before `before`, to be deleted whole, oldest first; none waiting as above.
  bool deletion_due(std::int64_t before, int limit, std::vector<std::int64_t>& out, std::string& error);

  // Every delivery of lead `seq`: the lead itself, its events and its notifications.
  bool lead_deliveries(std::int64_t seq, std::vector<DeliveryRecord>& out, std::string& error);

  // Notifications (daemon/notify/). The days of each rule with leads held for a digest not made yet, oldest first.
  bool held_days(std::vector<HeldDay>& out, std::string& error);
  // The leads of one rule's day held for its digest, in arrival order.
  bool held_leads(const HeldDay& day, std::vector<LeadRow>& out, std::string& error);
  // Leads a rule told of earlier (one by one or in a digest) that still wait for an answer, soonest expiry first.
  bool unanswered_leads(std::string_view rule, int limit, std::vector<LeadRow>& out, std::string& error);
  // Received leads expiring in (after_ms, until_ms] that some rule told of and has not decided a warning for yet
  // (an 'expiring' row, sent or not), soonest first, with those rules' names.
  bool expiry_warnings_due(std::int64_t after_ms, std::int64_t until_ms, int limit,
                           std::vector<std::pair<LeadRow, std::vector<std::string>>>& out, std::string& error);
  // The insight cells of the leads `filter` selects, summed over every key column but `columns` (names of
  // InsightCell's members; the others are left empty) (daemon/store/insights.cpp); false with `error`. With
  // `past`, also the funnel's past leads: those the filter selects that were received before its months and
  // answered in them ([from_ms, until_ms)). Without a customer the roll-ups answer; with one, a single pass over
  // the customer's lifecycle rows answers both.
  bool insight_cells(const InsightFilter& filter, const std::vector<std::string_view>& columns,
                     std::vector<InsightCell>& out, std::string& error, PastLeads* past = nullptr);
  // Whether any lead with a lifecycle is stored at all (an empty insight says which it is).
  bool any_lifecycle();

 private:
  explicit Reader(sqlite3* db);
  sqlite3* db_;
  std::unique_ptr<detail::Statements> statements_;
};

}  // namespace leadrelay::store
