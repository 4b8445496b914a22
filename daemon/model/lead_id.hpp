#pragma once
// Time-ordered lead ids: UUIDv7 (RFC 9562), 48-bit Unix milliseconds then random bits, so ids sort by
// arrival and index well in the store.
#include <cstdint>
#include <string>

namespace leadrelay::model {

// A new UUIDv7 in its canonical 36-character form. Thread-safe. Within one millisecond the 12-bit
// rand_a field counts up (RFC 9562 §6.2, method 1), so ids made by one process sort in creation order.
std::string new_lead_id(std::int64_t unix_ms);

// True for a canonical lower-case UUIDv7 string.
bool is_lead_id(std::string_view text);

// The millisecond timestamp inside a UUIDv7.
std::int64_t lead_id_time_ms(std::string_view id);

}  // namespace leadrelay::model
