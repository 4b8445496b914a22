// Phone numbers: 98 cases across 22 countries, written as people type them into forms (spaces,
// dashes, brackets, "(0)" trunk prefixes, 00 and + prefixes, extensions, tel: URIs, full-width digits), valid and
// invalid. Expectations are pinned to Debian bookworm's libphonenumber 8.12.57 metadata.
#include "daemon/validate/phone.hpp"

#include <gtest/gtest.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace leadrelay::validate {
namespace {

struct Case {
  std::string raw, region, verdict, reason, e164, extension, type, number_region;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"+1 650-253-0000", "US", "Valid", "", "+16502530000", "", "fixed_line_or_mobile", "US"},
      {"(650) 253-0000", "US", "Valid", "", "+16502530000", "", "fixed_line_or_mobile", "US"},
      {"650.253.0000", "US", "Valid", "", "+16502530000", "", "fixed_line_or_mobile", "US"},
      {"1-650-253-0000", "US", "Valid", "", "+16502530000", "", "fixed_line_or_mobile", "US"},
      {"+1 (201) 555-0123", "US", "Valid", "", "+12015550123", "", "fixed_line_or_mobile", "US"},
      {"650-253-0000 ext. 123", "US", "Valid", "", "+16502530000", "123", "fixed_line_or_mobile", "US"},
      {"650-253-0000 x123", "US", "Valid", "", "+16502530000", "123", "fixed_line_or_mobile", "US"},
      {"tel:+1-650-253-0000", "US", "Valid", "", "+16502530000", "", "fixed_line_or_mobile", "US"},
      {"+1 800 555 0199", "US", "Valid", "", "+18005550199", "", "toll_free", "US"},
      {"555-0123", "US", "Invalid", "not_in_plan", "", "", "", ""},
      {"+1 123 456 7890", "US", "Invalid", "not_in_plan", "", "", "", ""},
      {"+1 416-555-0123", "CA", "Valid", "", "+14165550123", "", "fixed_line_or_mobile", "CA"},
      {"(416) 555-0123", "CA", "Valid", "", "+14165550123", "", "fixed_line_or_mobile", "CA"},
      {"+44 20 7946 0958", "GB", "Valid", "", "+442079460958", "", "fixed_line", "GB"},
      {"020 7946 0958", "GB", "Valid", "", "+442079460958", "", "fixed_line", "GB"},
      {"07700 900123", "GB", "Invalid", "not_in_plan", "", "", "", ""},
      {"+44 (0)20 7946 0958", "GB", "Valid", "", "+442079460958", "", "fixed_line", "GB"},
      {"0044 20 7946 0958", "GB", "Valid", "", "+442079460958", "", "fixed_line", "GB"},
      {"+44 7911 123456", "GB", "Valid", "", "+447911123456", "", "mobile", "GG"},
      {"07911 123456", "GB", "Valid", "", "+447911123456", "", "mobile", "GG"},
      {"0800 123 4567", "GB", "Valid", "", "+448001234567", "", "toll_free", "GB"},
      {"+44 20 79", "GB", "Invalid", "not_in_plan", "", "", "", ""},
      {"+49 30 12345678", "DE", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
      {"030 12345678", "DE", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
      {"0151 23456789", "DE", "Valid", "", "+4915123456789", "", "mobile", "DE"},
      {"+49 151 23456789", "DE", "Valid", "", "+4915123456789", "", "mobile", "DE"},
      {"0049 30 12345678", "DE", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
      {"+49 (0)30 12345678", "DE", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
      {"+49 30 1", "DE", "Invalid", "not_in_plan", "", "", "", ""},
      {"030/12345678", "DE", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
      {"+33 1 23 45 67 89", "FR", "Valid", "", "+33123456789", "", "fixed_line", "FR"},
      {"01 23 45 67 89", "FR", "Valid", "", "+33123456789", "", "fixed_line", "FR"},
      {"06 12 34 56 78", "FR", "Valid", "", "+33612345678", "", "mobile", "FR"},
      {"+33 6 12 34 56 78", "FR", "Valid", "", "+33612345678", "", "mobile", "FR"},
      {"0033 6 12 34 56 78", "FR", "Valid", "", "+33612345678", "", "mobile", "FR"},
      {"+33 1 23", "FR", "Invalid", "too_short", "", "", "", ""},
      {"+34 912 345 678", "ES", "Valid", "", "+34912345678", "", "fixed_line", "ES"},
      {"912 345 678", "ES", "Valid", "", "+34912345678", "", "fixed_line", "ES"},
      {"612 345 678", "ES", "Valid", "", "+34612345678", "", "mobile", "ES"},
      {"+34 612 34 56 78", "ES", "Valid", "", "+34612345678", "", "mobile", "ES"},
      {"+39 06 1234 5678", "IT", "Valid", "", "+390612345678", "", "fixed_line", "IT"},
      {"06 1234 5678", "IT", "Valid", "", "+390612345678", "", "fixed_line", "IT"},
      {"312 345 6789", "IT", "Valid", "", "+393123456789", "", "mobile", "IT"},
      {"+39 312 345 6789", "IT", "Valid", "", "+393123456789", "", "mobile", "IT"},
      {"+31 20 123 4567", "NL", "Valid", "", "+31201234567", "", "fixed_line", "NL"},
      {"020 123 4567", "NL", "Valid", "", "+31201234567", "", "fixed_line", "NL"},
      {"06 12345678", "NL", "Valid", "", "+31612345678", "", "mobile", "NL"},
      {"+31 6 12345678", "NL", "Valid", "", "+31612345678", "", "mobile", "NL"},
      {"+61 2 1234 5678", "AU", "Valid", "", "+61212345678", "", "fixed_line", "AU"},
      {"(02) 1234 5678", "AU", "Valid", "", "+61212345678", "", "fixed_line", "AU"},
      {"0412 345 678", "AU", "Valid", "", "+61412345678", "", "mobile", "AU"},
      {"+61 412 345 678", "AU", "Valid", "", "+61412345678", "", "mobile", "AU"},
      {"+81 3-1234-5678", "JP", "Valid", "", "+81312345678", "", "fixed_line", "JP"},
      {"03-1234-5678", "JP", "Valid", "", "+81312345678", "", "fixed_line", "JP"},
      {"090-1234-5678", "JP", "Valid", "", "+819012345678", "", "mobile", "JP"},
      {"+81 90-1234-5678", "JP", "Valid", "", "+819012345678", "", "mobile", "JP"},
      {"+91 98765 43210", "IN", "Valid", "", "+919876543210", "", "mobile", "IN"},
      {"098765 43210", "IN", "Valid", "", "+919876543210", "", "mobile", "IN"},
      {"+91 22 2345 6789", "IN", "Valid", "", "+912223456789", "", "fixed_line", "IN"},
      {"98765 43210", "IN", "Valid", "", "+919876543210", "", "mobile", "IN"},
      {"+55 11 91234-5678", "BR", "Valid", "", "+5511912345678", "", "mobile", "BR"},
      {"(11) 91234-5678", "BR", "Valid", "", "+5511912345678", "", "mobile", "BR"},
      {"+55 11 3456-7890", "BR", "Valid", "", "+551134567890", "", "fixed_line", "BR"},
      {"+86 138 0013 8000", "CN", "Valid", "", "+8613800138000", "", "mobile", "CN"},
      {"138 0013 8000", "CN", "Valid", "", "+8613800138000", "", "mobile", "CN"},
      {"+86 10 1234 5678", "CN", "Valid", "", "+861012345678", "", "fixed_line", "CN"},
      {"+7 912 345-67-89", "RU", "Valid", "", "+79123456789", "", "mobile", "RU"},
      {"8 912 345-67-89", "RU", "Valid", "", "+79123456789", "", "mobile", "RU"},
      {"+27 82 123 4567", "ZA", "Valid", "", "+27821234567", "", "mobile", "ZA"},
      {"082 123 4567", "ZA", "Valid", "", "+27821234567", "", "mobile", "ZA"},
      {"+41 44 668 18 00", "CH", "Valid", "", "+41446681800", "", "fixed_line", "CH"},
      {"044 668 18 00", "CH", "Valid", "", "+41446681800", "", "fixed_line", "CH"},
      {"+46 8 123 456 78", "SE", "Valid", "", "+46812345678", "", "fixed_line", "SE"},
      {"070-123 45 67", "SE", "Valid", "", "+46701234567", "", "mobile", "SE"},
      {"+48 22 123 45 67", "PL", "Valid", "", "+48221234567", "", "fixed_line", "PL"},
      {"512 345 678", "PL", "Valid", "", "+48512345678", "", "mobile", "PL"},
      {"+353 1 234 5678", "IE", "Valid", "", "+35312345678", "", "fixed_line", "IE"},
      {"085 123 4567", "IE", "Valid", "", "+353851234567", "", "mobile", "IE"},
      {"+65 6123 4567", "SG", "Valid", "", "+6561234567", "", "fixed_line", "SG"},
      {"9123 4567", "SG", "Valid", "", "+6591234567", "", "mobile", "SG"},
      {"+971 50 123 4567", "AE", "Valid", "", "+971501234567", "", "mobile", "AE"},
      {"050 123 4567", "AE", "Valid", "", "+971501234567", "", "mobile", "AE"},
      {"+52 55 1234 5678", "MX", "Valid", "", "+525512345678", "", "fixed_line_or_mobile", "MX"},
      {"+1 650 253 0000", "DE", "Valid", "", "+16502530000", "", "fixed_line_or_mobile", "US"},
      {"+49 30 12345678", "US", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
      {"+4930123456789012345", "", "Invalid", "too_long", "", "", "", ""},
      {"00 49 30 12345678", "", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
      {"+44 20 7946 0958", "", "Valid", "", "+442079460958", "", "fixed_line", "GB"},
      {"650 253 0000", "", "Invalid", "invalid_country_code", "", "", "", ""},
      {"abc", "US", "Invalid", "not_a_number", "", "", "", ""},
      {"+", "US", "Invalid", "not_a_number", "", "", "", ""},
      {"12", "US", "Invalid", "too_short", "", "", "", ""},
      {"+999 1234 5678", "US", "Invalid", "invalid_country_code", "", "", "", ""},
      {"phone: +44 20 7946 0958", "GB", "Valid", "", "+442079460958", "", "fixed_line", "GB"},
      {"＋４４ ２０ ７９４６ ０９５８", "GB", "Valid", "", "+442079460958", "", "fixed_line", "GB"},
      {"+44 20 7946 0958 ext 42", "GB", "Valid", "", "+442079460958", "42", "fixed_line", "GB"},
      {"0", "DE", "Invalid", "not_a_number", "", "", "", ""},
      {"++49 30 12345678", "DE", "Valid", "", "+493012345678", "", "fixed_line", "DE"},
  };
  return all;
}

TEST(Phone, TableOfNumbers) {
  std::set<std::string> countries;
  int valid = 0;
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.raw + " | " + c.region);
    const auto r = check_phone(c.raw, c.region);
    EXPECT_EQ(r.verdict, c.verdict);
    EXPECT_EQ(r.reason, c.reason);
    EXPECT_EQ(r.e164, c.e164);
    EXPECT_EQ(r.extension, c.extension);
    EXPECT_EQ(r.type, c.type);
    EXPECT_EQ(r.region, c.number_region);
    if (!c.region.empty()) countries.insert(c.region);
    valid += c.verdict == "Valid" ? 1 : 0;
  }
  EXPECT_GE(cases().size(), 80u);
  EXPECT_GE(countries.size(), 10u);
  EXPECT_GE(valid, 40);
  EXPECT_GE(static_cast<int>(cases().size()) - valid, 10);
}

TEST(Phone, AbsentIsUnknown) {
  EXPECT_EQ(check_phone("", "US").verdict, "Unknown");
  EXPECT_EQ(check_phone("   ", "DE").verdict, "Unknown");
  EXPECT_EQ(check_phone("", "").verdict, "Unknown");
}

}  // namespace
}  // namespace leadrelay::validate

// The shortcuts (a length check before the patterns, no second region search for single-region calling codes, a
// memory of recent verdicts) must not change one verdict: every field against the straightforward sequence of
// calls (parse, type, reason from the possible-length check, region by search), over 30,000 numbers of every shape
// in 16 default regions.
namespace {
leadrelay::validate::PhoneResult reference_check(std::string_view raw, std::string_view default_region) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  leadrelay::validate::PhoneResult out;
  if (raw.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  const auto& util = *PhoneNumberUtil::GetInstance();
  std::string input(raw);
  std::string region = default_region.empty() ? std::string("ZZ") : std::string(default_region);
  if (region == "ZZ") {
    const auto first = input.find_first_not_of(" \t");
    if (first != std::string::npos && input.compare(first, 2, "00") == 0) input.replace(first, 2, "+");
  }
  PhoneNumber number;
  const auto error = util.Parse(input, region, &number);
  if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
    out.verdict = "Invalid";
    out.reason = error == PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR ? "invalid_country_code"
                 : error == PhoneNumberUtil::TOO_SHORT_AFTER_IDD || error == PhoneNumberUtil::TOO_SHORT_NSN
                     ? "too_short"
                 : error == PhoneNumberUtil::TOO_LONG_NSN ? "too_long"
                                                          : "not_a_number";
    return out;
  }
  if (!util.IsValidNumber(number)) {
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
  out.type = leadrelay::validate::check_phone(raw, default_region).type;  // the name mapping itself is not at issue
  util.GetRegionCodeForNumber(number, &out.region);
  out.country_code = number.country_code();
  return out;
}
}  // namespace

TEST(Phone, ShortcutsKeepEveryVerdict) {
  std::mt19937_64 rng(7);
  const char* regions[] = {"US", "CA", "GB", "DE", "FR", "IN", "JP", "BR", "AU", "RU", "KZ", "IT", "ES", "CN", "MX", ""};
  const char* prefixes[] = {"+1", "+44", "+49", "+7", "+33", "+91", "+81", "+55", "+61", "00", "0", "1", "", "+", "+999"};
  int valid = 0, checked = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string number = prefixes[rng() % std::size(prefixes)];
    const auto digits = 2 + rng() % 14;
    for (std::size_t d = 0; d < digits; ++d) {
      number += static_cast<char>('0' + rng() % 10);
      if (rng() % 9 == 0) number += " -()."[rng() % 5];
    }
    if (rng() % 20 == 0) number += " x" + std::to_string(rng() % 1000);
    const std::string region = regions[rng() % std::size(regions)];
    const auto want = reference_check(number, region);
    for (const auto& got : {leadrelay::validate::check_phone(number, region),
                            leadrelay::validate::check_phone(number, region),  // the remembered verdict
                            leadrelay::validate::detail::check_phone_uncached(number, region)}) {
      ASSERT_EQ(got.verdict, want.verdict) << number << " " << region;
      ASSERT_EQ(got.reason, want.reason) << number << " " << region;
      ASSERT_EQ(got.e164, want.e164) << number << " " << region;
      ASSERT_EQ(got.extension, want.extension) << number << " " << region;
      ASSERT_EQ(got.region, want.region) << number << " " << region;
      ASSERT_EQ(got.country_code, want.country_code) << number << " " << region;
    }
    valid += want.verdict == "Valid" ? 1 : 0;
    ++checked;
  }
  EXPECT_EQ(checked, 30000);
  EXPECT_GT(valid, 1000);  // the set holds valid numbers in many regions, not only junk
}

// The verdicts Debian's libphonenumber (ICU's regular expressions) gave 4,545 numbers of every region and number
// type (tests/testdata/phone_verdicts.tsv, made by tests/support/phone_corpus.cpp), which this build (RE2's when
// scripts/build-phonenumber.sh made it) must give too: every field, so that a change of regular-expression engine
// or of the check that moved one verdict fails here.
TEST(Phone, TheRecordedCorpusGetsTheSameVerdicts) {
  std::ifstream in(std::string(LEADRELAY_SOURCE_DIR) + "/tests/testdata/phone_verdicts.tsv");
  ASSERT_TRUE(in) << "tests/testdata/phone_verdicts.tsv";
  std::string line;
  int checked = 0, differ = 0, valid = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    for (std::size_t start = 0;;) {
      const auto tab = line.find('\t', start);
      f.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    ASSERT_EQ(f.size(), 9u) << line;
    const auto got = leadrelay::validate::detail::check_phone_uncached(f[0], f[1]);
    const std::vector<std::string> fields = {std::string(got.verdict), std::string(got.reason), got.e164,
                                             got.extension, std::string(got.type), got.region,
                                             std::to_string(got.country_code)};
    const std::vector<std::string> want(f.begin() + 2, f.end());
    if (fields != want && ++differ <= 10) ADD_FAILURE() << "'" << f[0] << "' in '" << f[1] << "': got " << fields[0] << " "
                                                      << fields[1] << " " << fields[2] << " " << fields[6] << ", recorded "
                                                      << want[0] << " " << want[1] << " " << want[2] << " " << want[6];
    valid += want[0] == "Valid" ? 1 : 0;
    ++checked;
  }
  EXPECT_EQ(differ, 0);
  EXPECT_EQ(checked, 4545);
  EXPECT_GT(valid, 2000);
}
