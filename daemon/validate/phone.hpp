#pragma once
// Phone numbers with libphonenumber: parsed with the lead's country as the default region (a number written
// with '+' or the region's international prefix needs none), checked against the number plan, formatted as
// E.164 (the extension kept apart) and typed (mobile, fixed_line, ...). Verdicts depend on the metadata of the
// installed library (Debian bookworm: 8.12.57). Pure and thread-safe.
#include <string>
#include <string_view>

namespace leadrelay::validate {

struct PhoneResult {
  std::string_view verdict = "Unknown";  // Valid | Invalid | Unknown (absent)
  std::string_view reason;               // when Invalid: not_a_number, too_short, too_long, invalid_country_code, not_in_plan
  std::string e164;                      // "+4930123456", when valid
  std::string extension;                 // "123", when valid and given
  std::string_view type;                 // mobile, fixed_line, fixed_line_or_mobile, toll_free, voip, ... when valid
  std::string region;                    // ISO 3166-1 alpha-2 of the number, when valid
  int country_code = 0;                  // the calling code (49 for +49), when valid
};

// `default_region`: ISO 3166-1 alpha-2 (the lead's country), or empty. Recent verdicts are remembered.
PhoneResult check_phone(std::string_view raw, std::string_view default_region);

namespace detail {
// The same without the memory of recent verdicts (tests and benchmarks).
PhoneResult check_phone_uncached(std::string_view raw, std::string_view default_region);
}  // namespace detail

}  // namespace leadrelay::validate

namespace leadrelay::validate {
// The calling code of a region ("DE" -> 49), 0 when unknown.
int calling_code(std::string_view region);
}  // namespace leadrelay::validate
