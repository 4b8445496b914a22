#pragma once
// Standard Webhooks signatures (https://www.standardwebhooks.com): the receiver recomputes
// base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")) and compares. A secret written
// "whsec_<base64>" is that base64's bytes; any other secret is used as its bytes. Shared by the hmac source auth
// (daemon/intake) and the webhook sink (connectors/webhook), so it lives below both.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leadrelay::util::standard_webhooks {

// "v1,<sig>" for one secret; for several (rotation), the signatures separated by spaces.
std::string sign(const std::vector<std::string>& secrets, std::string_view id, std::int64_t timestamp,
                 std::string_view body);

}  // namespace leadrelay::util::standard_webhooks
