#pragma once
// How the leads API shows a lead: its lead.v1 document with a `lifecycle` member; the lead's changes under
// `history` when shown alone. Expired leads show no contact details (as Partner Center does).
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/model/lead.hpp"
#include "daemon/store/records.hpp"

namespace leadrelay::api {

std::string lead_item_json(const store::LeadRow& row, std::int64_t now_ms);
std::string lead_detail_json(const store::LeadRow& row, const std::vector<store::LeadEvent>& history,
                             std::int64_t now_ms);

// The lead of a row, its contact details emptied when the lead is Expired; false when the row holds no lead.
bool lead_of(const store::LeadRow& row, model::Lead& lead);

}  // namespace leadrelay::api
