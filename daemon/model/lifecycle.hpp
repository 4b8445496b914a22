#pragma once
// A lead's lifecycle as Partner Center gives it (../shared/design/LIFECYCLE.md §2): its status, the deal the
// partner entered when accepting, why it was declined or lost, and its flags. Plain data: the rules that move it
// live in daemon/lifecycle (pure), the store keeps it, the leads API shows it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leadrelay::model {

// Offer leads come from a marketplace offer's buttons; profile leads from the business profile's contact form.
enum class LeadType { Offer, Profile };
// Customer inquiries come straight from the customer; qualified leads are sent by Microsoft's staff or sellers.
enum class Classification { CustomerInquiry, MarketingQualified, SalesQualified };
// Received → Accepted | Declined | Expired; Accepted → Won | Lost. Informational leads need no answer.
enum class Status { Received, Accepted, Declined, Won, Lost, Expired, Informational };

std::string_view to_string(LeadType type);
std::string_view to_string(Classification classification);
std::string_view to_string(Status status);
bool parse_lead_type(std::string_view text, LeadType& out);
bool parse_classification(std::string_view text, Classification& out);
bool parse_status(std::string_view text, Status& out);
// Declined, Won, Lost and Expired: nothing may change after them.
bool is_final(Status status);

// The decline and lost reasons, in Partner Center's order (its bulk format numbers them 1-8).
inline constexpr std::string_view kCloseReasons[] = {
    "Project budget isn't adequate",          "Customer didn't respond",
    "Customer chose another vendor",          "Customer requirement not met",
    "Not a customer",                         "Proposed time line was too short",
    "Report as abuse, spam, or phishing",     "Others",
};

struct Deal {
  std::string name;
  std::optional<double> value;  // estimated, in `currency`
  std::string currency;         // ISO 4217
  std::string close_date;       // estimated, YYYY-MM-DD (UTC)
  std::string crm_id;           // the partner's CRM record
  std::string campaign_id;      // the marketing campaign
  std::vector<std::string> team;  // extra team contacts (e-mail addresses)
  bool operator==(const Deal&) const = default;
};

struct Lifecycle {
  Status status = Status::Informational;
  std::int64_t version = 1;        // +1 with every change
  std::int64_t received_at_ms = 0;
  std::int64_t hot_until_ms = 0;   // 0: the customer did not ask to be contacted
  std::int64_t expires_at_ms = 0;  // while Received: when it expires unanswered; else 0
  std::int64_t accepted_at_ms = 0;
  std::int64_t closed_at_ms = 0;   // Declined, Won, Lost or Expired
  Deal deal;
  std::string reason;  // decline or lost reason (one of kCloseReasons)
  std::string notes;
  bool favorite = false;
  bool operator==(const Lifecycle&) const = default;
};

inline bool is_hot(const Lifecycle& l, std::int64_t now_ms) { return l.hot_until_ms > now_ms; }

// The deal as JSON ({"name", "value", "currency", "close_date", "crm_id", "campaign_id", "team"}; absent: null),
// and back (false when `json` is not such an object). The store keeps it so; the API and events show it so.
std::string deal_to_json(const Deal& deal);
bool deal_from_json(std::string_view json, Deal& out);

// ISO 4217 currency codes in use (three capital letters from the standard's list).
bool is_currency_code(std::string_view code);

}  // namespace leadrelay::model
