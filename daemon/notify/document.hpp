#pragma once
// What a notification says, as the JSON document its outbox deliveries carry (the senders render it:
// connectors/notify/templates.hpp for mail, Adaptive Cards and Block Kit for Teams and Slack). Built once, when
// the notification is decided, so that a retry sends the same words:
//   {"rule", "to": [addresses], "day", "timezone", "count", "digest_after", "waiting_count" (when > 0),
//    "leads": [lead], "waiting": [lead]}
// and each lead: lead_id, name, first_name, last_name, email, email_verdict, phone, phone_verdict, company, title,
// country, offer, offer_id, call_to_action, lead_type, classification, program, quality, low_quality,
// quality_reasons, quality_reasons_text, hot, requested_contact, received_at, expires_at, description, link,
// referral_id, status. Times are local to notifications.timezone.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/lead.hpp"
#include "daemon/notify/notify_config.hpp"

namespace leadrelay::notify {

struct LeadState {
  model::Lead lead;
  model::Lifecycle lifecycle;
};

// A message about one lead (new_lead, hot, expiring).
std::string lead_document(const NotifyConfig& config, const NotifyRule& rule, const LeadState& lead,
                          std::int64_t now_ms);
// A rule's digest of `day`: the leads held for it, and those still waiting for an answer.
std::string digest_document(const NotifyConfig& config, const NotifyRule& rule, std::string_view day,
                            const std::vector<LeadState>& leads, const std::vector<LeadState>& waiting,
                            std::int64_t now_ms);
// A made-up lead for `leadrelay notify test`.
LeadState sample_lead(std::int64_t now_ms);

}  // namespace leadrelay::notify
