#pragma once
// Format `ms-marketplace`: the lead JSON that Microsoft's commercial marketplace POSTs to a publisher's
// HTTPS endpoint (shared/design/FORMATS.md §1). Keys match ignoring case (the validation lead sends
// `userDetails`), every field may be missing, and no lead id or signature is sent.
#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "daemon/intake/rejection.hpp"
#include "daemon/model/lead.hpp"

namespace leadrelay::connectors::ms_marketplace {

inline constexpr std::string_view kFormatName = "ms-marketplace";

bool map_lead(const rapidjson::Value& body, model::Lead& lead, intake::Rejection& error);

// The parts of a LeadSource value: "AzureMarketplace-INS|contoso.analytics-pro", "AzureMarketplace",
// "AppSource (SPZA)-PLT|pub.offer", or free text (origin Unknown, nothing split off).
struct LeadSourceParts {
  model::Origin origin = model::Origin::Unknown;
  std::string action_code;  // canonical code, or empty when LeadSource names none
  std::string offer;        // the part after '|', trimmed
};
LeadSourceParts parse_lead_source(std::string_view lead_source);

model::Origin parse_origin(std::string_view source);
// INS, PLT, DNC, Create, StartTestDrive (any case) to the action; any other code is kept as sent, Unknown.
model::Action parse_action(std::string_view code);
// "publisher.offer" to its parts (lower-cased); anything else keeps only the id.
model::Offer parse_offer(std::string_view offer, std::string_view title);
// True when a value carries the marketplace's test-lead marker MSFT_TEST_<digits>.
bool has_test_marker(std::string_view value);

}  // namespace leadrelay::connectors::ms_marketplace
