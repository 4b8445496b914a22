// Writes the phone-check corpus: numbers as people write them, for every region and number type libphonenumber
// has an example of (and its invalid example, and the non-geographic calling codes), in E.164, international,
// national and tel: forms, with the last digit changed, dropped or doubled, with 00 and 011 for '+', and with an
// extension; each checked under its own region, no region and "US". One line per number:
//   raw \t region \t verdict \t reason \t e164 \t extension \t type \t number_region \t country_code
// tests/testdata/phone_verdicts.tsv is every 13th line, written with Debian's libphonenumber (ICU's regular
// expressions); Phone.TheRecordedCorpusGetsTheSameVerdicts checks the build against it, so a change of engine or of
// the check that moved one verdict fails. `phone_corpus --every 1` writes them all (59,082 lines with 8.12.57's
// metadata), for comparing two builds with diff.
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "daemon/validate/phone.hpp"

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

struct Input {
  std::string raw, region;
};

// The number as written, then with its last digit changed, dropped and doubled (only as written when it has none).
std::vector<std::string> variants(const std::string& written) {
  std::vector<std::string> out{written};
  const auto last = written.find_last_of("0123456789");
  if (last == std::string::npos) return out;
  std::string changed = written;
  changed[last] = static_cast<char>('0' + (written[last] - '0' + 1) % 10);
  out.push_back(changed);
  out.push_back(written.substr(0, last) + written.substr(last + 1));
  out.push_back(written.substr(0, last + 1) + written[last] + written.substr(last + 1));
  return out;
}

void add_number(const PhoneNumberUtil& util, const PhoneNumber& number, const std::string& own_region,
                std::vector<Input>& out) {
  std::string e164, international, national, rfc3966;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  util.Format(number, PhoneNumberUtil::INTERNATIONAL, &international);
  util.Format(number, PhoneNumberUtil::NATIONAL, &national);
  util.Format(number, PhoneNumberUtil::RFC3966, &rfc3966);
  for (const auto& v : variants(e164)) {
    for (const auto& region : {own_region, std::string(), std::string("US")}) out.push_back({v, region});
    out.push_back({"00" + v.substr(1), ""});
    out.push_back({"00" + v.substr(1), own_region});
    out.push_back({"011 " + v.substr(1), "US"});
  }
  for (const auto& v : variants(international)) {
    out.push_back({v, own_region});
    out.push_back({v, ""});
  }
  for (const auto& v : variants(national)) {
    out.push_back({v, own_region});
    out.push_back({v, "US"});
  }
  out.push_back({rfc3966, own_region});
  out.push_back({e164 + " ext. 42", own_region});
  out.push_back({national + " x7", own_region});
}

std::vector<Input> inputs() {
  const auto& util = *PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  const PhoneNumberUtil::PhoneNumberType types[] = {
      PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE,      PhoneNumberUtil::TOLL_FREE,
      PhoneNumberUtil::PREMIUM_RATE, PhoneNumberUtil::SHARED_COST, PhoneNumberUtil::VOIP,
      PhoneNumberUtil::PERSONAL_NUMBER, PhoneNumberUtil::PAGER,   PhoneNumberUtil::UAN,
      PhoneNumberUtil::VOICEMAIL};
  std::vector<Input> out;
  for (const auto& region : regions) {  // a std::set: sorted, so the corpus is the same on every run
    for (const auto type : types) {
      PhoneNumber number;
      if (util.GetExampleNumberForType(region, type, &number)) add_number(util, number, region, out);
    }
    PhoneNumber invalid;
    if (util.GetInvalidExampleNumber(region, &invalid)) add_number(util, invalid, region, out);
  }
  std::set<int> global;
  util.GetSupportedGlobalNetworkCallingCodes(&global);
  for (const int code : global) {
    PhoneNumber number;
    if (util.GetExampleNumberForNonGeoEntity(code, &number)) add_number(util, number, "", out);  // no region
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t every = 13;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--every") every = std::max<std::size_t>(1, std::strtoul(argv[i + 1], nullptr, 10));
  }
  const auto all = inputs();
  for (std::size_t i = 0; i < all.size(); i += every) {
    const auto& in = all[i];
    const auto r = leadrelay::validate::detail::check_phone_uncached(in.raw, in.region);
    std::cout << in.raw << '\t' << in.region << '\t' << r.verdict << '\t' << r.reason
              << '\t' << r.e164 << '\t' << r.extension << '\t' << r.type << '\t' << r.region << '\t'
              << r.country_code << '\n';
  }
  return 0;
}
