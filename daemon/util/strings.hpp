#pragma once
// Small string helpers shared by config, intake and the format mappers. ASCII-only on purpose:
// case-insensitive matching of JSON keys and enum words never needs Unicode case folding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leadrelay::util {

inline constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
inline constexpr char ascii_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
// Position of needle in haystack ignoring ASCII case, or npos.
std::size_t ifind(std::string_view haystack, std::string_view needle) noexcept;
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);

// Trims ASCII white space (space, tab, CR, LF, VT, FF) from both ends.
std::string_view trim(std::string_view s) noexcept;

// Levenshtein distance, for "did you mean" hints. Inputs are short (config keys, enum words).
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a plausible typo, else empty.
std::string_view closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

// "a, b or c": for messages that list the accepted values.
std::string join_choices(const std::vector<std::string_view>& items);

// Strict unsigned decimal parse of the whole string; false on anything else or overflow.
bool parse_u64(std::string_view s, unsigned long long& out) noexcept;
// The same, and false too when the number is above `max`: for values a peer controls, bounded before any
// arithmetic.
bool parse_u64(std::string_view s, unsigned long long max, unsigned long long& out) noexcept;

// The items of a comma-separated list, each trimmed; empty ones left out.
std::vector<std::string> split_list(std::string_view list);

// Percent-encodes every byte but RFC 3986's unreserved characters and those in `also_keep`.
std::string url_encode(std::string_view s, std::string_view also_keep = {});

// `text` as a JSON string literal (quoted, escaped).
std::string json_quote(std::string_view text);

// Decodes %XX and '+' in a URL query component. Invalid escapes are kept as they are.
std::string url_decode(std::string_view s);

// The name=value pairs of a query string, decoded, in order; empty pairs left out, a name alone has value "".
std::vector<std::pair<std::string, std::string>> query_params(std::string_view query);

// An ISO-8601 UTC time ("2026-11-01T10:00:00Z", with 0-7 fraction digits, "Z" or "+00:00"; lead.v1 and Partner
// Center write them so) in Unix milliseconds; false when it is not one.
bool parse_utc_ms(std::string_view text, std::int64_t& ms);

}  // namespace leadrelay::util
