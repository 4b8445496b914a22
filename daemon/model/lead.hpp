#pragma once
// The one lead model every source format maps onto and every destination receives (published as lead.v1,
// schemas/lead.v1.json). Strings that the sender left out or left empty stay empty here and are null in JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/lifecycle.hpp"

namespace leadrelay::model {

// Where in Microsoft's commercial marketplace the lead came from (the Source part of LeadSource).
enum class Origin { AzureMarketplace, AzurePortal, AppSource, TestDrive, Unknown };

// What the customer pressed, from the action code (FORMATS.md §1).
enum class CallToAction { GetItNowOrFreeTrial, ContactMe, None, GetItNow, TestDrive, Unknown };

std::string_view to_string(Origin origin);
std::string_view to_string(CallToAction cta);

struct Contact {
  std::string first_name;
  std::string last_name;
  std::string email;
  std::string phone;
  std::string company;
  std::string title;
  std::string country;      // ISO 3166-1 alpha-2, or empty when the raw value is not a known country
  std::string country_raw;  // as sent
};

struct Offer {
  std::string id;            // "publisherid.offerid" as sent (test leads may put the offer's title here)
  std::string publisher_id;  // empty unless id has the publisher.offer form
  std::string offer_id;
  std::string title;
};

struct Action {
  std::string code;  // canonical code (INS, PLT, DNC, Create, StartTestDrive) or the unknown code as sent
  CallToAction call_to_action = CallToAction::Unknown;
  bool partner_action_required = false;  // Contact me: accept or decline within 14 days
  bool do_not_contact = false;           // DNC: a cross-listing notice; do not reach out
};

// Contact validation verdicts (FORMATS.md §4), set by the pipeline's validate stage.
struct EmailCheck {
  std::string verdict = "Unknown";  // Valid | Invalid | Spam | Unknown
  std::string normalized;           // local part @ A-label domain, when the syntax is valid
  std::string domain;               // the registrable domain, when the syntax is valid
  std::vector<std::string> reasons; // why the verdict (reason codes)
  bool role_mailbox = false;        // info@, sales@, ...: valid, nobody in particular reads it
  bool free_mail = false;           // gmail.com, outlook.com, ...
};

struct PhoneCheck {
  std::string verdict = "Unknown";  // Valid | Invalid | Unknown (absent)
  std::string e164;                 // "+4930123456", when valid
  std::string extension;
  std::string type;                 // mobile, fixed_line, ... when valid
  std::string region;               // the number's ISO 3166-1 alpha-2 country, when valid
  std::vector<std::string> reasons;
};

// What a Partner Center referral (format pc-referral) adds: its identity at Partner Center, its status there as it
// came (unknown values kept as sent), and what the customer and Microsoft said of the deal. Absent (id empty) for
// marketplace leads.
struct Referral {
  std::string id;                     // Partner Center's referral id
  std::string engagement_id;
  std::string name;                   // the referral's (deal) name
  std::string etag;                   // the version the lead was made from
  std::string external_reference_id;  // the partner's CRM id, when one was written back
  std::string status, substatus;      // New/Pending, Active/Accepted, Closed/Won, ... as sent
  std::string qualification;          // Direct, MarketingQualified, SalesQualified, ... as sent
  std::string type;                   // Independent, Shared, ... as sent
  std::string company_size;           // customerProfile.size, as sent
  std::string call_to_action;         // callToAction, as sent
  std::string updated_at;             // updatedDateTime, as sent
  std::string status_reason;          // statusReason, as sent
  std::string closing_date;           // details.closingDateTime, YYYY-MM-DD
  std::optional<double> deal_value;   // details.dealValue
  std::string currency;               // details.currency
  std::vector<std::string> products, services, industries;  // details.requirements
  bool consent_to_contact = true;     // consent.consentToContact
  bool consent_to_share = true;       // consent.consentToToShareInfoWithOthers (sic)
  bool customer_requested_contact = false;  // details.customerRequestedContact: call me (the notifications' `hot`)
};

struct Lead {
  std::string lead_id;  // UUIDv7, assigned at intake
  std::int64_t received_at_ms = 0;
  std::string source_name;  // the config's source name
  std::string format;       // the source's format, e.g. ms-marketplace
  Origin origin = Origin::Unknown;
  std::string lead_source_raw;
  Action action;
  // What kind of lead (LIFECYCLE.md §1): marketplace leads are offer leads and customer inquiries; a qualified
  // lead names its referral program (empty otherwise).
  LeadType lead_type = LeadType::Offer;
  Classification classification = Classification::CustomerInquiry;
  std::string program;
  // The customer asked to be contacted (Contact me, or a referral's customerRequestedContact): hot for a while.
  bool customer_requested_contact = false;
  // ... and it is still within the hot window (lifecycle.hot_window) as it is routed: the `hot` route field. Set by
  // the pipeline's caller, which knows the time; not part of lead.v1 (the leads API shows the lifecycle's).
  bool hot = false;
  Offer offer;
  Contact contact;
  std::string description;
  bool test_lead = false;
  bool contactable = false;  // has an email address or a phone number
  // The same person for the same offer within the window: the first lead's id, which occurrence this is, and
  // the action codes of all occurrences so far (oldest first).
  std::string duplicate_of;
  int occurrence = 1;
  std::vector<std::string> action_history;
  EmailCheck email_check;
  PhoneCheck phone_check;
  std::string quality = "High";  // High | Low (Low = likely spam or not worth a call)
  std::vector<std::string> quality_reasons;
  Referral referral;  // pc-referral leads only
};

inline constexpr std::string_view kLeadSchema = "lead.v1";

// The lead as lead.v1 JSON (compact).
std::string to_json(const Lead& lead);
// {"email_check": ..., "phone_check": ..., "quality": ..., "quality_reasons": [...]}, as in lead.v1.
std::string verdicts_to_json(const EmailCheck& email, const PhoneCheck& phone, std::string_view quality,
                             const std::vector<std::string>& quality_reasons);

}  // namespace leadrelay::model

namespace leadrelay::model {
// Reads a lead back from its lead.v1 JSON (as stored in the journal); false with a message when it is not one.
bool from_json(std::string_view json, Lead& lead, std::string& error);
bool parse_origin_name(std::string_view name, Origin& out);
bool parse_call_to_action_name(std::string_view name, CallToAction& out);
}  // namespace leadrelay::model
