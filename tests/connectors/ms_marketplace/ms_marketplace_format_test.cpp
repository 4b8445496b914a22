// The ms-marketplace mapping (FORMATS.md §1): the documented sample, the validation lead, key case,
// missing keys, LeadSource forms, every source and action value, countries, empty strings.
#include "connectors/ms_marketplace/ms_marketplace_format.hpp"

#include <gtest/gtest.h>

#include "daemon/intake/intake.hpp"
#include "daemon/intake/json_body.hpp"
#include "tests/support/lead_schema.hpp"

namespace leadrelay::connectors::ms_marketplace {
namespace {

using model::CallToAction;
using model::Origin;

struct Mapped {
  bool ok = false;
  model::Lead lead;
  intake::Rejection error;
};

Mapped map(const std::string& json) {
  Mapped m;
  rapidjson::Document doc;
  if (!intake::parse_json_object(json, doc, m.error)) return m;
  m.ok = map_lead(doc, m.lead, m.error);
  m.lead.lead_id = "01900000-0000-7000-8000-000000000000";
  m.lead.received_at_ms = 1732320000000;
  m.lead.source_name = "marketplace";
  m.lead.format = "ms-marketplace";
  return m;
}

constexpr const char* kDocumentedSample = R"({
  "UserDetails": {
    "FirstName": "Jane", "LastName": "Doe", "Email": "jane.doe@contoso.com", "Phone": "16175555555",
    "Country": "US", "Company": "Contoso", "Title": "CTO"
  },
  "LeadSource": "AzureMarketplace-INS|contoso.analytics-pro",
  "ActionCode": "INS",
  "OfferTitle": "Contoso Analytics Pro",
  "Description": "Interested in a trial"
})";

TEST(MsMarketplaceMapping, DocumentedSample) {
  const auto m = map(kDocumentedSample);
  ASSERT_TRUE(m.ok) << m.error.message;
  const auto& l = m.lead;
  EXPECT_EQ(l.contact.first_name, "Jane");
  EXPECT_EQ(l.contact.last_name, "Doe");
  EXPECT_EQ(l.contact.email, "jane.doe@contoso.com");
  EXPECT_EQ(l.contact.phone, "16175555555");
  EXPECT_EQ(l.contact.country, "US");
  EXPECT_EQ(l.contact.country_raw, "US");
  EXPECT_EQ(l.contact.company, "Contoso");
  EXPECT_EQ(l.contact.title, "CTO");
  EXPECT_EQ(l.origin, Origin::AzureMarketplace);
  EXPECT_EQ(l.action.code, "INS");
  EXPECT_EQ(l.action.call_to_action, CallToAction::GetItNowOrFreeTrial);
  EXPECT_FALSE(l.action.partner_action_required);
  EXPECT_EQ(l.offer.id, "contoso.analytics-pro");
  EXPECT_EQ(l.offer.publisher_id, "contoso");
  EXPECT_EQ(l.offer.offer_id, "analytics-pro");
  EXPECT_EQ(l.offer.title, "Contoso Analytics Pro");
  EXPECT_EQ(l.description, "Interested in a trial");
  EXPECT_FALSE(l.test_lead);
  EXPECT_TRUE(l.contactable);
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(l)), "");
}

TEST(MsMarketplaceMapping, ValidationLeadUsesLowerCaseKeysAndIsFlagged) {
  const auto m = map(R"({
    "userDetails": {"firstName": "MSFT_TEST_636573304831318844", "lastName": "MSFT_TEST_636573304831318844",
                    "email": "MSFT_TEST_636573304831318844@contoso.com", "phone": "1234567890",
                    "country": "USA", "company": "MSFT_TEST_636573304831318844", "title": "MSFT_TEST"},
    "leadSource": "AzureMarketplace-INS|Contoso Analytics Pro",
    "actionCode": "INS",
    "offerTitle": "Contoso Analytics Pro",
    "description": "MSFT_TEST_636573304831318844"
  })");
  ASSERT_TRUE(m.ok) << m.error.message;
  EXPECT_TRUE(m.lead.test_lead);
  EXPECT_EQ(m.lead.contact.country, "US");
  EXPECT_EQ(m.lead.contact.country_raw, "USA");
  // Test leads may put the offer's title where the id belongs: kept, not split.
  EXPECT_EQ(m.lead.offer.id, "Contoso Analytics Pro");
  EXPECT_EQ(m.lead.offer.publisher_id, "");
  EXPECT_EQ(m.lead.offer.offer_id, "");
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(m.lead)), "");
}

TEST(MsMarketplaceMapping, MixedKeyCase) {
  const auto m = map(R"({"USERDETAILS": {"EMAIL": "a@b.io", "firstname": "Al"}, "leadsource": "AzurePortal"})");
  ASSERT_TRUE(m.ok) << m.error.message;
  EXPECT_EQ(m.lead.contact.email, "a@b.io");
  EXPECT_EQ(m.lead.contact.first_name, "Al");
  EXPECT_EQ(m.lead.origin, Origin::AzurePortal);
}

TEST(MsMarketplaceMapping, MissingActionCodeAndDescription) {
  const auto m = map(R"({"UserDetails": {"Email": "a@b.io"}, "LeadSource": "AzureMarketplace-PLT|pub.offer"})");
  ASSERT_TRUE(m.ok) << m.error.message;
  // An older sender: the code comes from LeadSource.
  EXPECT_EQ(m.lead.action.code, "PLT");
  EXPECT_EQ(m.lead.action.call_to_action, CallToAction::ContactMe);
  EXPECT_TRUE(m.lead.action.partner_action_required);
  EXPECT_EQ(m.lead.description, "");
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(m.lead)), "");
}

TEST(MsMarketplaceMapping, NoActionAnywhere) {
  const auto m = map(R"({"UserDetails": {"Email": "a@b.io"}, "LeadSource": "AzureMarketplace"})");
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.lead.action.code, "");
  EXPECT_EQ(m.lead.action.call_to_action, CallToAction::Unknown);
  EXPECT_EQ(m.lead.origin, Origin::AzureMarketplace);
  EXPECT_EQ(m.lead.offer.id, "");
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(m.lead)), "");
}

TEST(MsMarketplaceMapping, ActionCodeFieldWinsOverLeadSource) {
  const auto m = map(R"({"LeadSource": "AzureMarketplace-INS|pub.offer", "ActionCode": "PLT"})");
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.lead.action.code, "PLT");
}

TEST(MsMarketplaceMapping, FreeTextLeadSource) {
  const auto m = map(R"({"LeadSource": "Web-form from the spring campaign", "UserDetails": {"Phone": "+1 617 555 5555"}})");
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.lead.origin, Origin::Unknown);
  EXPECT_EQ(m.lead.lead_source_raw, "Web-form from the spring campaign");
  EXPECT_EQ(m.lead.action.code, "");
  EXPECT_TRUE(m.lead.contactable);
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(m.lead)), "");
}

TEST(MsMarketplaceMapping, EmptyStringsAreAbsentAndNotContactable) {
  const auto m = map(R"({"UserDetails": {"FirstName": "", "Email": "   ", "Phone": "", "Country": ""},
                         "LeadSource": "", "ActionCode": "", "OfferTitle": "", "Description": ""})");
  ASSERT_TRUE(m.ok);
  EXPECT_FALSE(m.lead.contactable);
  EXPECT_EQ(m.lead.contact.email, "");
  EXPECT_EQ(m.lead.contact.country, "");
  const auto json = model::to_json(m.lead);
  EXPECT_NE(json.find(R"("email":null)"), std::string::npos) << json;
  EXPECT_EQ(testing::lead_schema_errors(json), "");
}

TEST(MsMarketplaceMapping, EmptyObjectIsALeadThatCannotBeContacted) {
  const auto m = map("{}");
  ASSERT_TRUE(m.ok);
  EXPECT_FALSE(m.lead.contactable);
  EXPECT_EQ(m.lead.origin, Origin::Unknown);
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(m.lead)), "");
}

TEST(MsMarketplaceMapping, NullValuesAreAbsent) {
  const auto m = map(R"({"UserDetails": null, "LeadSource": null, "Description": null})");
  ASSERT_TRUE(m.ok);
  EXPECT_FALSE(m.lead.contactable);
}

TEST(MsMarketplaceMapping, ValuesAreTrimmedAndControlCharactersDropped) {
  const auto m = map(R"({"UserDetails": {"FirstName": "  Jane\u0000 ", "Company": "\tContoso\n"},
                         "Description": "line one\r\nline two"})");
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.lead.contact.first_name, "Jane");
  EXPECT_EQ(m.lead.contact.company, "Contoso");
  EXPECT_EQ(m.lead.description, "line one\nline two");
}

TEST(MsMarketplaceMapping, UnknownKeysAreIgnored) {
  const auto m = map(R"({"UserDetails": {"Email": "a@b.io", "MiddleName": "Q"}, "Extra": {"nested": [1, 2]}})");
  ASSERT_TRUE(m.ok);
}

struct Refusal {
  const char* body;
  const char* code;
  const char* field;
};

class MsMarketplaceRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(MsMarketplaceRefusal, NamesTheField) {
  const auto m = map(GetParam().body);
  ASSERT_FALSE(m.ok);
  EXPECT_EQ(m.error.status, 400);
  EXPECT_EQ(m.error.code, GetParam().code);
  EXPECT_EQ(m.error.field, GetParam().field);
  EXPECT_FALSE(m.error.message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, MsMarketplaceRefusal,
    ::testing::Values(Refusal{R"({"UserDetails": "Jane Doe"})", "wrong_type", "UserDetails"},
                      Refusal{R"({"UserDetails": [1]})", "wrong_type", "UserDetails"},
                      Refusal{R"({"UserDetails": {"Phone": 16175555555}})", "wrong_type", "UserDetails.Phone"},
                      Refusal{R"({"UserDetails": {"Email": {"a": 1}}})", "wrong_type", "UserDetails.Email"},
                      Refusal{R"({"UserDetails": {"Country": true}})", "wrong_type", "UserDetails.Country"},
                      Refusal{R"({"LeadSource": 7})", "wrong_type", "LeadSource"},
                      Refusal{R"({"Description": ["a"]})", "wrong_type", "Description"},
                      Refusal{R"({"UserDetails": {}, "userDetails": {}})", "duplicate_key", "userdetails"},
                      Refusal{R"({"UserDetails": {"Email": "a@b.io", "email": "c@d.io"}})", "duplicate_key",
                              "UserDetails.email"},
                      Refusal{R"({"LeadSource": "a", "LeadSource": "b"})", "duplicate_key", "leadsource"}));

struct SourceCase {
  const char* lead_source;
  Origin origin;
  const char* action;
  const char* offer;
};

class LeadSourceTable : public ::testing::TestWithParam<SourceCase> {};

TEST_P(LeadSourceTable, Splits) {
  const auto parts = parse_lead_source(GetParam().lead_source);
  EXPECT_EQ(parts.origin, GetParam().origin) << GetParam().lead_source;
  EXPECT_EQ(parts.action_code, GetParam().action) << GetParam().lead_source;
  EXPECT_EQ(parts.offer, GetParam().offer) << GetParam().lead_source;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LeadSourceTable,
    ::testing::Values(
        SourceCase{"AzureMarketplace-INS|contoso.analytics-pro", Origin::AzureMarketplace, "INS", "contoso.analytics-pro"},
        SourceCase{"AzurePortal-Create|bitnami.openedxcypress", Origin::AzurePortal, "Create", "bitnami.openedxcypress"},
        SourceCase{"AppSource (SPZA)-PLT|pub.offer", Origin::AppSource, "PLT", "pub.offer"},
        SourceCase{"SPZA-INS|pub.offer", Origin::AppSource, "INS", "pub.offer"},
        SourceCase{"AppSource-DNC|pub.offer", Origin::AppSource, "DNC", "pub.offer"},
        SourceCase{"TestDrive-StartTestDrive|pub.offer", Origin::TestDrive, "StartTestDrive", "pub.offer"},
        SourceCase{"azuremarketplace-ins|pub.offer", Origin::AzureMarketplace, "INS", "pub.offer"},
        SourceCase{"AzureMarketplace", Origin::AzureMarketplace, "", ""},
        SourceCase{"AzurePortal", Origin::AzurePortal, "", ""},
        SourceCase{"SPZA", Origin::AppSource, "", ""},
        SourceCase{"TestDrive", Origin::TestDrive, "", ""},
        SourceCase{"AzureMarketplace|pub.offer", Origin::AzureMarketplace, "", "pub.offer"},
        SourceCase{"  AzureMarketplace - INS | pub.offer  ", Origin::AzureMarketplace, "INS", "pub.offer"},
        SourceCase{"Web-form", Origin::Unknown, "", ""},
        SourceCase{"Some free text", Origin::Unknown, "", ""},
        SourceCase{"", Origin::Unknown, "", ""},
        SourceCase{"Partner-XYZ|a.b", Origin::Unknown, "", "a.b"}));

struct ActionCase {
  const char* code;
  const char* canonical;
  CallToAction cta;
  bool action_required;
  bool do_not_contact;
};

class ActionTable : public ::testing::TestWithParam<ActionCase> {};

TEST_P(ActionTable, Maps) {
  const auto a = parse_action(GetParam().code);
  EXPECT_EQ(a.code, GetParam().canonical);
  EXPECT_EQ(a.call_to_action, GetParam().cta);
  EXPECT_EQ(a.partner_action_required, GetParam().action_required);
  EXPECT_EQ(a.do_not_contact, GetParam().do_not_contact);
}

INSTANTIATE_TEST_SUITE_P(Table, ActionTable,
                         ::testing::Values(ActionCase{"INS", "INS", CallToAction::GetItNowOrFreeTrial, false, false},
                                           ActionCase{"PLT", "PLT", CallToAction::ContactMe, true, false},
                                           ActionCase{"DNC", "DNC", CallToAction::None, false, true},
                                           ActionCase{"Create", "Create", CallToAction::GetItNow, false, false},
                                           ActionCase{"StartTestDrive", "StartTestDrive", CallToAction::TestDrive,
                                                      false, false},
                                           ActionCase{"ins", "INS", CallToAction::GetItNowOrFreeTrial, false, false},
                                           ActionCase{"starttestdrive", "StartTestDrive", CallToAction::TestDrive,
                                                      false, false},
                                           ActionCase{"XYZ", "XYZ", CallToAction::Unknown, false, false},
                                           ActionCase{"", "", CallToAction::Unknown, false, false}));

TEST(MsMarketplaceOffer, SplitsPublisherAndOffer) {
  const auto o = parse_offer("Checkpoint.Check-Point-R77-10SG-BYOL", "");
  EXPECT_EQ(o.id, "Checkpoint.Check-Point-R77-10SG-BYOL");
  EXPECT_EQ(o.publisher_id, "checkpoint");
  EXPECT_EQ(o.offer_id, "check-point-r77-10sg-byol");
}

TEST(MsMarketplaceTestMarker, NeedsDigits) {
  EXPECT_TRUE(has_test_marker("MSFT_TEST_636573304831318844"));
  EXPECT_TRUE(has_test_marker("hello msft_test_1@x.com"));
  EXPECT_TRUE(has_test_marker("MSFT_TEST_x MSFT_TEST_2"));
  EXPECT_FALSE(has_test_marker("MSFT_TEST_"));
  EXPECT_FALSE(has_test_marker("MSFT_TEST"));
  EXPECT_FALSE(has_test_marker("Jane"));
}

TEST(MsMarketplaceMapping, CountriesByCodeAndName) {
  for (const auto& [raw, code] : std::vector<std::pair<std::string, std::string>>{
           {"US", "US"}, {"USA", "US"}, {"United States", "US"}, {"Germany", "DE"}, {"DEU", "DE"},
           {"United Kingdom", "GB"}, {"Atlantis", ""}}) {
    const auto m = map(R"({"UserDetails": {"Country": ")" + raw + R"("}})");
    ASSERT_TRUE(m.ok);
    EXPECT_EQ(m.lead.contact.country, code) << raw;
    EXPECT_EQ(m.lead.contact.country_raw, raw);
  }
}

}  // namespace
}  // namespace leadrelay::connectors::ms_marketplace
