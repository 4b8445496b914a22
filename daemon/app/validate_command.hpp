#pragma once
// `leadrelay validate`: the verdicts for one contact (--email/--phone/--country) or, with no contact flags, for
// each JSON line on stdin ({"email":..,"phone":..,"country":..}; optional first_name, last_name, company,
// test_lead), one verdict JSON line out per line in. Admins use it to see why a lead was called spam.
#include <string_view>
#include <vector>

namespace leadrelay::app {

// Exit codes: 0 ok, 64 usage, 65 a line was not a JSON object, 78 invalid config.
int validate_command(const std::vector<std::string_view>& args);

}  // namespace leadrelay::app
