#pragma once
// What the store keeps, as plain structs: other rooms read and write these through the store's typed functions
// (store::Reader, store::Transaction, store::Journal) and never see a table.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/model/lifecycle.hpp"

namespace leadrelay::store {

// A journaled lead as the pipeline reads it: the body as received and its source's format (mapped again by
// the pipeline), or, in rows written before 0.1.0's raw-only journal, the mapped lead itself.
struct JournaledLead {
  std::int64_t seq = 0;
  std::string stored_lead;  // lead.v1 of old rows; empty since
  std::string raw;
  std::string format;
  std::string lead_id;
  std::string source;
  std::int64_t received_at_ms = 0;
};

// The same person for the same offer within the person window: the first lead, how many so far, their actions.
struct PersonRecord {
  std::string first_lead_id;
  int occurrences = 0;
  std::vector<std::string> actions;
  std::int64_t expires_ms = 0;
};

enum class RoutingState { Routed = 1, Dropped = 2, Unrouted = 3 };

// A lead's lifecycle as first stored, with the lead's values the leads API filters on (copied once, so that a
// list never parses lead.v1 documents).
struct LifecycleRecord {
  model::Lifecycle lifecycle;
  std::string call_to_action, country, company, lead_source, lead_type, classification, quality, email_validity,
      phone_validity;
  std::string referral_id{};  // Partner Center's, for a referral lead
  std::string offer{};        // publisherid.offerid as sent
  std::string program{};      // a qualified lead's referral program
};

// A notification the pipeline asks for as it routes a lead (daemon/notify/ says which rules want one). The store
// decides, counting the rule's leads of that day, whether it goes out at once or waits for the rule's digest.
struct NotificationRequest {
  std::string rule;
  std::string day;       // the lead's day in notifications.timezone, YYYY-MM-DD
  bool hot = false;      // goes out at once, never held for the digest
  bool single = true;    // the rule sends one message per lead (new_lead)
  bool digest = false;   // the rule holds leads past `digest_after` in a day for its digest
  int digest_after = 10;
  std::string document;  // what the message says (notify::Document), the same whichever kind it becomes
  std::vector<std::string> destinations;  // "notify:email", "notify:<channel>"
};

// A notification the notify worker makes (a digest, an expiry warning): one per key, ever.
struct Notification {
  std::string key;  // "<kind>|<rule>|<lead id>" or "digest|<rule>|<day>"
  std::string kind, rule, day;
  std::int64_t lead_seq = 0;  // the lead's; a digest's newest lead
  std::string document;
  std::vector<std::string> destinations;
};

// A day of a rule with leads held for its digest, not sent yet.
struct HeldDay {
  std::string rule, day;
};

// Deliveries a write added to the outbox (for the in-memory backlog).
struct DeliveryTotals {
  std::int64_t count = 0;
  std::int64_t bytes = 0;
};

// What the pipeline made of one lead: written with its deliveries (one per destination) and the cursor, in one
// transaction, so each lead is routed exactly once.
struct RoutingRecord {
  std::int64_t seq = 0;
  RoutingState state = RoutingState::Unrouted;
  std::string outcome;    // "routed", "dropped by rule ...", "no rule matched", "unreadable"
  std::string lead_json;  // lead.v1 as the pipeline left it (empty for an unreadable row)
  std::string lead_id, source, action;
  bool test_lead = false;
  std::string msg_key;                    // the destinations' message key (email, else phone, else lead id)
  std::vector<std::string> destinations;  // "kafka:<topic>" or "sink:<name>"
  std::string person_key;                 // empty: nobody to recognise
  std::optional<PersonRecord> person;     // the person-and-offer state after this lead, when kept
  std::optional<LifecycleRecord> lifecycle;  // absent for an unreadable row
  std::vector<NotificationRequest> notifications{};
};

// A delivery waiting for its destination, with what the destination needs to send it.
struct PendingDelivery {
  std::int64_t id = 0;
  std::string destination;
  std::string msg_key;
  std::int64_t bytes = 0;
  std::string lead_id, lead_json, source, action;  // lead_json: lead-event.v1 when `event`
  bool test_lead = false;
  bool event = false;  // a lifecycle change of the lead, not the lead itself
};

// What became of a delivery: delivered (error empty) or refused for good (a dead letter with the reason).
struct DeliveryAck {
  std::int64_t id = 0;
  std::int64_t bytes = 0;
  std::string error;
  std::string history{};  // a lead-event.v1 document for the lead's history (a write-back conflict); not published
  bool clear_key = false;  // an erasure's delivery keyed with the person's email: the key goes once it is done
};

// The leads API's filters (all given ones must hold; several values of one: any of them). Newest first.
struct LeadFilter {
  std::vector<std::string> status, call_to_action, country, lead_source, lead_type, classification, quality,
      email_validity, phone_validity;
  std::string customer;           // a substring of the company name, any case
  std::optional<bool> favorite, hot;
  std::int64_t from_ms = 0;       // received at or after; 0: any
  std::int64_t to_ms = 0;         // received before; 0: any
  std::int64_t now_ms = 0;        // for `hot`
  std::int64_t before_seq = 0;    // the cursor: leads older than this one; 0: from the newest
  int limit = 50;
  bool operator==(const LeadFilter&) const = default;
};

// What the insights read (daemon/insights/): leads received in whole months, of one tab's classifications,
// filtered as the console's query string says (several values of one: any of them).
struct InsightFilter {
  std::string from_month, to_month;  // YYYY-MM, both included
  std::int64_t from_ms = 0, until_ms = 0;  // the same months as times: the first's start, the next month's start
  std::vector<std::string> classification, country, lead_type, offer, program;
  std::vector<std::string> customer;  // substrings of the company name, any case (any of them)
};

// One cell of the insight roll-up: `n` leads that share every key value, with the sums of their measures.
struct InsightCell {
  std::string month;  // YYYY-MM (UTC) the leads were received in
  std::string classification, lead_type, call_to_action, country, offer, program, lead_source, status;
  std::string currency;   // of the deal value; empty when there is none
  std::string reason;     // decline or lost reason
  int accept_bucket = -1;  // days to accept: 0-1, 2-3, 4-5, 6-7, 8-9, 10-11, 12-14, 14+ as 0..7; -1 not accepted
  int win_bucket = -1;     // days to win: 0-30, 31-60, ..., 151-180, 180+ as 0..6; -1 not won
  std::int64_t n = 0;
  double value = 0;           // the deal values, in `currency`
  std::int64_t accept_ms = 0;  // the acceptance times, summed
  std::int64_t win_ms = 0;     // the times to win, summed
};

// Leads received before a range and answered in it (Partner Center's "past leads").
struct PastLeads {
  std::int64_t accepted = 0, declined = 0, won = 0, lost = 0;
};

// A stored lead with its lifecycle.
struct LeadRow {
  std::int64_t seq = 0;
  std::string lead_id;
  std::string msg_key;  // the destinations' message key, which its events are keyed with too
  model::Lifecycle lifecycle;
  std::string lead_json;  // lead.v1 as the pipeline left it
  std::string referral_id{};  // Partner Center's, for a referral lead
};

// One change of a lead's lifecycle, as stored and published (lead-event.v1).
struct LeadEvent {
  std::int64_t id = 0;
  std::int64_t version = 0;
  std::int64_t at_ms = 0;
  std::string actor;
  std::string json;  // lead-event.v1
};

struct DeadLetterFilter {
  std::string sink;     // "crm" (sinks[].name) or a destination such as "kafka:leads.all"; empty: all
  std::int64_t id = 0;  // one delivery; 0: all
};

struct DeadLetter {
  std::int64_t id = 0;
  std::string destination, lead_id, error;
  std::int64_t failed_at_ms = 0;
  std::string lead_json;  // dead_letter(id) only
};

// Where a lead (or its events and notifications) went, for a subject-access export.
struct DeliveryRecord {
  std::int64_t id = 0;
  std::string destination;
  int state = 0;  // 0 pending, 1 delivered, 2 dead letter, 4 replayed, 5 cancelled
  std::string what;  // lead, event, or the notification's kind
  std::int64_t done_ms = 0;
};

struct DestinationBacklog {
  std::string destination;
  std::int64_t deliveries = 0;
  std::int64_t bytes = 0;
};

struct TableSize {
  std::string name;
  std::int64_t rows = 0;
  std::int64_t bytes = -1;  // -1: this SQLite has no dbstat table to measure with
};

// `leadrelay store info`.
struct StoreInfo {
  std::string path;
  int schema_version = 0;    // the store's
  int binary_version = 0;    // the newest this binary knows
  std::int64_t page_size = 0, pages = 0, free_pages = 0;
  std::int64_t file_bytes = 0, wal_bytes = 0;
  std::vector<TableSize> tables;
};

}  // namespace leadrelay::store
