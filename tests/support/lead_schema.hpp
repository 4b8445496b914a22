#pragma once
// Validates JSON text against schemas/lead.v1.json with RapidJSON's draft-04 validator.
#include <string>

namespace leadrelay::testing {

// Empty when `json` is a valid lead.v1 document; otherwise what is wrong and where.
std::string lead_schema_errors(const std::string& json);

}  // namespace leadrelay::testing
