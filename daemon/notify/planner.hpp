#pragma once
// Which notifications an arriving lead asks for: one request per rule whose `when:` it meets, hot when the
// rule's `hot_when:` holds too. A plain function over the lead (the pipeline worker calls it as it routes); the
// store then decides, with the rule's count of the day, whether each goes out at once or waits for the digest.
#include <cstdint>
#include <vector>

#include "daemon/model/lead.hpp"
#include "daemon/notify/notify_config.hpp"
#include "daemon/store/records.hpp"

namespace leadrelay::notify {

std::vector<store::NotificationRequest> plan(const NotifyConfig& config, const model::Lead& lead,
                                             const model::Lifecycle& lifecycle, std::int64_t now_ms);

// The rule's default `when:`: leads that need the partner's answer (Contact me, profile and qualified leads).
bool needs_answer(const model::Lead& lead);

}  // namespace leadrelay::notify
