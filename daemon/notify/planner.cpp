#include "daemon/notify/planner.hpp"

#include "daemon/notify/document.hpp"

namespace leadrelay::notify {

bool needs_answer(const model::Lead& lead) {
  return lead.action.partner_action_required && !lead.action.do_not_contact;
}

std::vector<store::NotificationRequest> plan(const NotifyConfig& config, const model::Lead& lead,
                                             const model::Lifecycle& lifecycle, std::int64_t now_ms) {
  std::vector<store::NotificationRequest> out;
  if (!config.configured || !config.zone) return out;
  const LeadState state{lead, lifecycle};
  for (const auto& rule : config.rules) {
    if (rule.has_when ? !routing::matches(rule.when, lead) : !needs_answer(lead)) continue;
    store::NotificationRequest r;
    r.rule = rule.name;
    r.day = config.zone->day(lifecycle.received_at_ms != 0 ? lifecycle.received_at_ms : lead.received_at_ms);
    r.hot = rule.hot && routing::matches(rule.hot_when, lead);
    r.single = rule.new_lead;
    r.digest = rule.digest;
    r.digest_after = config.digest_after;
    // A rule that only warns of expiry still records the lead (noted, nothing sent) so that the warning finds it.
    if (!r.hot && !r.single && !r.digest && !rule.expiring) continue;
    r.document = lead_document(config, rule, state, now_ms);
    r.destinations = rule.destinations;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace leadrelay::notify
