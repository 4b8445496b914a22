#include "daemon/validate/phone.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

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

}  // namespace

PhoneResult check_phone(std::string_view raw, std::string_view default_region) {
  PhoneResult out;
  if (blank(raw)) return out;  // absent: Unknown
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
  // GetNumberType is UNKNOWN exactly when IsValidNumber is false (both match the national number against the
  // region's patterns); asking once instead of twice halves the regular-expression work, the bulk of the cost.
  const auto type = util.GetNumberType(number);
  if (type == PhoneNumberUtil::UNKNOWN) {
    out.verdict = "Invalid";
    switch (util.IsPossibleNumberWithReason(number)) {
      case PhoneNumberUtil::TOO_SHORT: out.reason = "too_short"; break;
      case PhoneNumberUtil::TOO_LONG: out.reason = "too_long"; break;
      case PhoneNumberUtil::INVALID_COUNTRY_CODE: out.reason = "invalid_country_code"; break;
      default: out.reason = "not_in_plan";
    }
    return out;
  }
  out.verdict = "Valid";
  util.Format(number, PhoneNumberUtil::E164, &out.e164);
  out.extension = number.extension();
  out.type = type_name(type);
  util.GetRegionCodeForNumber(number, &out.region);
  out.country_code = number.country_code();
  return out;
}

int calling_code(std::string_view region) {
  if (region.empty()) return 0;
  return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(std::string(region));
}

}  // namespace leadrelay::validate
