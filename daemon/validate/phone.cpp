#include "daemon/validate/phone.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <list>
#include <mutex>
#include <unordered_map>

namespace leadrelay::validate {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

std::string_view type_name(PhoneNumberUtil::PhoneNumberType type) {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE: return "fixed_line";
    case PhoneNumberUtil::MOBILE: return "mobile";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return "fixed_line_or_mobile";
    case PhoneNumberUtil::TOLL_FREE: return "toll_free";
    case PhoneNumberUtil::PREMIUM_RATE: return "premium_rate";
    case PhoneNumberUtil::SHARED_COST: return "shared_cost";
    case PhoneNumberUtil::VOIP: return "voip";
    case PhoneNumberUtil::PERSONAL_NUMBER: return "personal_number";
    case PhoneNumberUtil::PAGER: return "pager";
    case PhoneNumberUtil::UAN: return "uan";
    case PhoneNumberUtil::VOICEMAIL: return "voicemail";
    default: return "unknown";
  }
}

std::string_view parse_error_reason(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "invalid_country_code";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN: return "too_short";
    case PhoneNumberUtil::TOO_LONG_NSN: return "too_long";
    default: return "not_a_number";
  }
}

bool blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// The reason an impossible number (one whose length no number of its country has) is Invalid; empty when the
// number's length is possible.
std::string_view impossible_reason(PhoneNumberUtil::ValidationResult possible) {
  switch (possible) {
    case PhoneNumberUtil::TOO_SHORT: return "too_short";
    case PhoneNumberUtil::TOO_LONG: return "too_long";
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return "invalid_country_code";
    case PhoneNumberUtil::INVALID_LENGTH: return "not_in_plan";
    default: return {};
  }
}

PhoneResult check_uncached(std::string_view raw, std::string_view default_region) {
  PhoneResult out;
  const auto& util = *PhoneNumberUtil::GetInstance();
  std::string input(raw);
  std::string region = default_region.empty() ? std::string("ZZ") : std::string(default_region);
  // Without a known country, "00" is read as the international prefix most of the world uses.
  if (region == "ZZ") {
    const auto first = input.find_first_not_of(" \t");
    if (first != std::string::npos && input.compare(first, 2, "00") == 0) input.replace(first, 2, "+");
  }
  PhoneNumber number;
  const auto error = util.Parse(input, region, &number);
  if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
    out.verdict = "Invalid";
    out.reason = parse_error_reason(error);
    return out;
  }
  // A length no number of the country has is valid for no region: a length check (about 1 µs) instead of the
  // pattern matching (10-25 µs for a +1 number, tried against up to 25 regions).
  const auto possible = util.IsPossibleNumberWithReason(number);
  if (const auto reason = impossible_reason(possible); !reason.empty()) {
    out.verdict = "Invalid";
    out.reason = reason;
    return out;
  }
  // GetNumberType is UNKNOWN exactly when IsValidNumber is false (both match the national number against the
  // region's patterns); asking once instead of twice halves the regular-expression work, the bulk of the cost.
  const auto type = util.GetNumberType(number);
  if (type == PhoneNumberUtil::UNKNOWN) {
    out.verdict = "Invalid";
    out.reason = "not_in_plan";
    return out;
  }
  out.verdict = "Valid";
  util.Format(number, PhoneNumberUtil::E164, &out.e164);
  out.extension = number.extension();
  out.type = type_name(type);
  out.country_code = number.country_code();
  // A calling code of one region needs no search for it (GetRegionCodeForNumber would match the patterns again).
  std::list<std::string> regions;
  util.GetRegionCodesForCountryCallingCode(out.country_code, &regions);
  if (regions.size() == 1) {
    out.region = regions.front();
  } else {
    util.GetRegionCodeForNumber(number, &out.region);
  }
  return out;
}

// Recent verdicts by (number as written, default region): a redelivery or a repeat of one person's lead costs a
// lookup. Bounded; emptied whole when full (its contents are only ever a shortcut).
class VerdictCache {
 public:
  bool find(const std::string& key, PhoneResult& out) {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    out = it->second;
    return true;
  }
  void put(std::string key, const PhoneResult& result) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.emplace(std::move(key), result);
  }

 private:
  static constexpr std::size_t kMaxEntries = 8192;
  std::mutex mutex_;
  std::unordered_map<std::string, PhoneResult> entries_;
};

}  // namespace

PhoneResult check_phone(std::string_view raw, std::string_view default_region) {
  if (blank(raw)) return {};  // absent: Unknown
  static VerdictCache cache;
  std::string key;
  key.reserve(raw.size() + 3);
  key.append(default_region).append("|").append(raw);
  PhoneResult out;
  if (cache.find(key, out)) return out;
  out = check_uncached(raw, default_region);
  cache.put(std::move(key), out);
  return out;
}

namespace detail {
PhoneResult check_phone_uncached(std::string_view raw, std::string_view default_region) {
  return blank(raw) ? PhoneResult{} : check_uncached(raw, default_region);
}
}  // namespace detail

int calling_code(std::string_view region) {
  if (region.empty()) return 0;
  return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(std::string(region));
}

}  // namespace leadrelay::validate
