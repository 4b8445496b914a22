// Country normalisation, lead ids and the lead.v1 JSON.
#include <gtest/gtest.h>

#include <set>

#include "daemon/model/country.hpp"
#include "daemon/model/lead.hpp"
#include "daemon/model/lead_id.hpp"
#include "tests/support/lead_schema.hpp"

namespace leadrelay::model {
namespace {

struct CountryCase {
  const char* raw;
  const char* alpha2;
};

class CountryTable : public ::testing::TestWithParam<CountryCase> {};

TEST_P(CountryTable, Normalises) { EXPECT_EQ(country_alpha2(GetParam().raw), GetParam().alpha2) << GetParam().raw; }

INSTANTIATE_TEST_SUITE_P(
    Table, CountryTable,
    ::testing::Values(CountryCase{"US", "US"}, CountryCase{"us", "US"}, CountryCase{" de ", "DE"},
                      CountryCase{"USA", "US"}, CountryCase{"gbr", "GB"}, CountryCase{"DEU", "DE"},
                      CountryCase{"JPN", "JP"}, CountryCase{"UK", "GB"}, CountryCase{"United States", "US"},
                      CountryCase{"united states of america", "US"}, CountryCase{"United Kingdom", "GB"},
                      CountryCase{"Germany", "DE"}, CountryCase{"The Netherlands", "NL"},
                      CountryCase{"Netherlands", "NL"}, CountryCase{"South Korea", "KR"},
                      CountryCase{"Korea, Republic of", "KR"}, CountryCase{"Côte d'Ivoire", "CI"},
                      CountryCase{"Cote d’Ivoire", "CI"}, CountryCase{"cote divoire", "CI"},
                      CountryCase{"Türkiye", "TR"}, CountryCase{"Turkey", "TR"}, CountryCase{"Russia", "RU"},
                      CountryCase{"Russian Federation", "RU"}, CountryCase{"Viet Nam", "VN"},
                      CountryCase{"Bolivia", "BO"}, CountryCase{"Taiwan", "TW"}, CountryCase{"Czechia", "CZ"},
                      CountryCase{"Czech Republic", "CZ"}, CountryCase{"Åland Islands", "AX"},
                      CountryCase{"UAE", "AE"}, CountryCase{"Brasil", "BR"}, CountryCase{"Saint Barthélemy", "BL"},
                      CountryCase{"", ""}, CountryCase{"XX", ""}, CountryCase{"XYZ", ""},
                      CountryCase{"Atlantis", ""}, CountryCase{"12", ""}, CountryCase{"U", ""}));

TEST(CountryTable, EveryAlpha2RoundTrips) {
  // A few from each end of the table, to catch a broken generated file.
  for (const char* code : {"AD", "AE", "ZA", "ZM", "ZW"}) EXPECT_EQ(country_alpha2(code), code);
}

TEST(LeadId, IsUuidV7AndOrderedInTime) {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 10000; ++i) {
    const auto id = new_lead_id(1732320000000 + i / 100);
    ASSERT_TRUE(is_lead_id(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "duplicate " << id;
    ASSERT_LT(previous, id) << "ids must sort in creation order";
    previous = id;
  }
  EXPECT_EQ(lead_id_time_ms(new_lead_id(1732320123456)), 1732320123456);
}

TEST(LeadId, ClockSteppingBackKeepsOrder) {
  const auto a = new_lead_id(1900000000000);
  const auto b = new_lead_id(1800000000000);
  EXPECT_LT(a, b);
}

TEST(LeadId, RejectsOtherStrings) {
  EXPECT_FALSE(is_lead_id("not-a-uuid"));
  EXPECT_FALSE(is_lead_id("01900000-0000-4000-8000-000000000000"));  // version 4
  EXPECT_FALSE(is_lead_id("01900000-0000-7000-c000-000000000000"));  // wrong variant
}

TEST(LeadJson, FullLeadMatchesSchema) {
  Lead l;
  l.lead_id = new_lead_id(1732320000000);
  l.received_at_ms = 1732320000123;
  l.source_name = "marketplace";
  l.format = "ms-marketplace";
  l.origin = Origin::AppSource;
  l.lead_source_raw = "AppSource (SPZA)-PLT|pub.offer";
  l.action = {"PLT", CallToAction::ContactMe, true, false};
  l.offer = {"pub.offer", "pub", "offer", "The Offer"};
  l.contact = {"Ann", "Lee", "ann@example.org", "+49 30 1234567", "ACME \"Intl\"", "CEO", "DE", "Germany"};
  l.description = "multi\nline \u00e9";
  l.contactable = true;
  const auto json = to_json(l);
  EXPECT_EQ(testing::lead_schema_errors(json), "") << json;
  EXPECT_NE(json.find(R"("received_at":"2024-11-23T00:00:00.123Z")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("company":"ACME \"Intl\"")"), std::string::npos) << json;
}

TEST(LeadJson, SchemaRejectsWhatItShould) {
  Lead l;
  l.lead_id = "not-an-id";
  l.source_name = "marketplace";
  l.format = "ms-marketplace";
  EXPECT_NE(testing::lead_schema_errors(to_json(l)), "");
  l.lead_id = new_lead_id(1);
  l.contact.country = "usa";
  EXPECT_NE(testing::lead_schema_errors(to_json(l)), "");
  l.contact.country = "US";
  EXPECT_EQ(testing::lead_schema_errors(to_json(l)), "");
  EXPECT_NE(testing::lead_schema_errors(R"({"schema":"lead.v1"})"), "");
}

}  // namespace
}  // namespace leadrelay::model
