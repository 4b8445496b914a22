#include "connectors/pc_referral/pc_referral_format.hpp"

#include <gtest/gtest.h>

#include "connectors/pc_referral/pc_sink.hpp"
#include "connectors/source_formats.hpp"
#include "daemon/util/strings.hpp"
#include "daemon/intake/json_body.hpp"
#include "tests/support/lead_schema.hpp"

namespace leadrelay::connectors::pc_referral {
namespace {
using model::Status;

rapidjson::Document parse(std::string_view text) {
  rapidjson::Document d;
  intake::Rejection error;
  EXPECT_TRUE(intake::parse_json_object(text, d, error)) << error.message;
  return d;
}

constexpr std::string_view kResource = R"({
  "id": "ref-1", "engagementId": "eng-1", "name": "Contoso deal", "externalReferenceId": null,
  "updatedDateTime": "2026-11-02T10:00:00.1234567Z", "status": "New", "substatus": "Pending",
  "type": "Independent", "qualification": "MarketingQualified", "callToAction": null, "program": "Contact request",
  "eTag": "\"7\"", "target": {"type": "Offer"},
  "customerProfile": {"name": "Contoso Ltd", "size": "10to50employees",
    "address": {"country": "de"}, "team": [{"firstName": "Ana", "lastName": "Buyer", "email": "Ana@Contoso.com",
    "phoneNumber": "+49 30 1234567"}, {"firstName": "Second"}]},
  "consent": {"consentToContact": true, "consentToToShareInfoWithOthers": false},
  "details": {"notes": "Needs 50 seats", "dealValue": "12000.5", "currency": "eur",
    "closingDateTime": "2027-02-01T00:00:00Z", "customerRequestedContact": true,
    "requirements": {"products": [{"id": "p", "name": "Analytics"}], "services": ["Migration"], "industries": []}}
})";

TEST(PcReferral, MapsTheResource) {
  auto d = parse(kResource);
  model::Lead lead;
  intake::Rejection error;
  ASSERT_TRUE(map_resource(d, lead, error)) << error.message;
  EXPECT_EQ(lead.contact.first_name, "Ana");
  EXPECT_EQ(lead.contact.email, "Ana@Contoso.com");  // normalized later, by the pipeline
  EXPECT_EQ(lead.contact.company, "Contoso Ltd");
  EXPECT_EQ(lead.contact.country, "DE");
  EXPECT_EQ(lead.classification, model::Classification::MarketingQualified);
  EXPECT_EQ(lead.lead_type, model::LeadType::Offer);
  EXPECT_EQ(lead.program, "Contact request");
  EXPECT_EQ(lead.action.call_to_action, model::CallToAction::ContactMe);
  EXPECT_TRUE(lead.customer_requested_contact);
  EXPECT_TRUE(lead.contactable);
  EXPECT_EQ(lead.description, "Needs 50 seats");
  const auto& r = lead.referral;
  EXPECT_EQ(r.id, "ref-1");
  EXPECT_EQ(r.engagement_id, "eng-1");
  EXPECT_EQ(r.etag, "\"7\"");
  EXPECT_EQ(r.company_size, "10to50employees");
  ASSERT_TRUE(r.deal_value.has_value());
  EXPECT_DOUBLE_EQ(*r.deal_value, 12000.5);
  EXPECT_EQ(r.closing_date, "2027-02-01");
  EXPECT_EQ(r.products, std::vector<std::string>{"Analytics"});
  EXPECT_EQ(r.services, std::vector<std::string>{"Migration"});
  EXPECT_FALSE(r.consent_to_share);
  lead.lead_id = "01900000-0000-7000-8000-000000000000";
  lead.received_at_ms = 1764547200000;
  lead.source_name = "referrals";
  lead.format = "pc-referral";
  EXPECT_EQ(leadrelay::testing::lead_schema_errors(model::to_json(lead)), "");
  model::Lead back;
  std::string problem;
  ASSERT_TRUE(model::from_json(model::to_json(lead), back, problem)) << problem;
  EXPECT_EQ(back.referral.id, "ref-1");
  EXPECT_EQ(back.referral.products, r.products);
  EXPECT_EQ(back.referral.deal_value, r.deal_value);

  // The lifecycle starts Received, with the customer's estimate; telling it the same again changes nothing.
  const auto start = lifecycle::initial(lead, {});
  EXPECT_EQ(start.status, Status::Received);
  EXPECT_EQ(start.deal.currency, "EUR");
  const auto sync = lifecycle::referral_sync(lead);
  ASSERT_TRUE(sync.to_status.has_value());
  EXPECT_EQ(lifecycle::apply(start, sync, lead.received_at_ms + 1).kind, lifecycle::ChangeResult::Kind::Unchanged);
}

TEST(PcReferral, KeepsUnknownValuesAndRefusesWrongTypes) {
  auto d = parse(R"({"id": "ref-2", "status": "Frozen", "substatus": 3, "qualification": "Platinum",
                     "target": {"type": "BusinessProfileLocation"}, "consent": {"consentToContact": false},
                     "customerProfile": {"team": [{"email": "x@contoso.com"}]}})");
  model::Lead lead;
  intake::Rejection error;
  ASSERT_TRUE(map_resource(d, lead, error)) << error.message;
  EXPECT_EQ(lead.referral.status, "Frozen");
  EXPECT_EQ(lead.referral.substatus, "3");
  EXPECT_EQ(lead.referral.qualification, "Platinum");
  EXPECT_EQ(lead.classification, model::Classification::CustomerInquiry);
  EXPECT_EQ(lead.lead_type, model::LeadType::Profile);
  EXPECT_FALSE(lead.contactable);
  EXPECT_FALSE(lifecycle::referral_sync(lead).to_status.has_value());

  for (const auto* bad : {R"({"status": "New"})", R"({"id": "r", "customerProfile": "Contoso"})",
                          R"({"id": "r", "customerProfile": {"team": {"email": "x"}}})",
                          R"({"id": "r", "consent": {"consentToContact": "maybe"}})",
                          R"({"id": "r", "details": {"requirements": {"products": "all"}}})"}) {
    auto b = parse(bad);
    model::Lead l;
    intake::Rejection e;
    EXPECT_FALSE(map_resource(b, l, e)) << bad;
    EXPECT_EQ(e.status, 400) << bad;
  }
}

TEST(PcReferral, Events) {
  const auto event = [](std::string name, std::string uri) {
    return R"({"EventName": ")" + name + R"(", "ResourceUri": ")" + uri +
           R"(", "ResourceName": "referral", "ResourceChangeUtcDate": "2026-11-01T00:00:00Z"})";
  };
  for (const auto* name : {"referral-created", "Referral-Updated", "related-referral-created",
                           "related-referral-updated"}) {
    auto d = parse(event(name, "https://api.partnercenter.microsoft.com/engagements/v1/referrals/abc-123/"));
    model::Lead lead;
    intake::Rejection error;
    ASSERT_TRUE(map_event(d, lead, error)) << name << ": " << error.message;
    EXPECT_EQ(lead.referral.id, "abc-123");
  }
  {
    auto d = parse(event("referral-updated", "https://x/referrals/r9?x=1"));
    model::Lead lead;
    intake::Rejection error;
    ASSERT_TRUE(map_event(d, lead, error));
    EXPECT_EQ(lead.referral.id, "r9");
  }
  const auto refused = [&](const std::string& body, std::string_view field) {
    auto d = parse(body);
    model::Lead lead;
    intake::Rejection error;
    EXPECT_FALSE(map_event(d, lead, error)) << body;
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.field, field) << body;
  };
  refused(event("referral-deleted", "https://x/referrals/1"), "EventName");
  refused(R"({"ResourceUri": "https://x/referrals/1"})", "EventName");
  refused(event("referral-created", "https://x/referrals/"), "ResourceUri");
  refused(event("referral-created", "https://x/referrals/a%20b"), "ResourceUri");
  refused(event("referral-created", "no-slashes"), "ResourceUri");
  // Only the journal names the resource format; sources may not.
  const auto names = connectors::format_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "pc-referral"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), kResourceFormat), names.end());
  ASSERT_NE(connectors::find_format(kResourceFormat), nullptr);
  EXPECT_TRUE(connectors::find_format(kFormatName)->notice);
}

TEST(PcReferral, StatusesBothWays) {
  using lifecycle::referral_status;
  EXPECT_EQ(referral_status("New", "Pending"), Status::Received);
  EXPECT_EQ(referral_status("new", "Received"), Status::Received);
  EXPECT_EQ(referral_status("Active", "Accepted"), Status::Accepted);
  for (auto s : {Status::Won, Status::Lost, Status::Declined, Status::Expired}) {
    EXPECT_EQ(referral_status("Closed", model::to_string(s)), s);
  }
  EXPECT_FALSE(referral_status("Closed", "Duplicate").has_value());
  EXPECT_FALSE(referral_status("None", "None").has_value());
  for (auto s : {Status::Received, Status::Accepted, Status::Won, Status::Lost, Status::Declined, Status::Expired}) {
    const auto [status, substatus] = lifecycle::partner_center_status(s);
    EXPECT_EQ(referral_status(status, substatus), s);
  }
}

TEST(PcReferral, WriteBackPatches) {
  WriteBack w;
  std::string error;
  ASSERT_TRUE(read_write_back(R"({"action":"accept","to_status":"Accepted","referral_id":"r1","changed":{
      "status":"Accepted","deal_name":"D","deal_value":5,"currency":"USD","close_date":"2027-01-31","notes":"n",
      "team":["a@contoso.com"]}})", w, error)) << error;
  EXPECT_EQ(w.referral_id, "r1");
  EXPECT_EQ(w.patch,
            R"([{"op":"replace","path":"/status","value":"Active"},{"op":"replace","path":"/substatus","value":"Accepted"},)"
            R"({"op":"add","path":"/name","value":"D"},{"op":"add","path":"/details/dealValue","value":5},)"
            R"({"op":"add","path":"/details/currency","value":"USD"},)"
            R"({"op":"add","path":"/details/closingDateTime","value":"2027-01-31T00:00:00Z"},)"
            R"({"op":"add","path":"/details/notes","value":"n"},)"
            R"({"op":"add","path":"/team","value":[{"email":"a@contoso.com"}]}])");
  ASSERT_TRUE(read_write_back(R"({"action":"decline","to_status":"Declined","referral_id":"r1","changed":{
      "status":"Declined","reason":"Not a customer"}})", w, error));
  EXPECT_NE(w.patch.find(R"({"op":"add","path":"/statusReason","value":"Not a customer"})"), std::string::npos);
  EXPECT_NE(w.patch.find(R"("value":"Closed")"), std::string::npos);
  // Expiry, favorites and Partner Center's own changes write nothing; leads that are no referral are refused.
  for (const auto* action : {"expire", "favorite", "sync"}) {
    ASSERT_TRUE(read_write_back(std::string(R"({"action":")") + action +
                                    R"(","to_status":"Expired","referral_id":"r1","changed":{"status":"Expired"}})",
                                w, error));
    EXPECT_TRUE(w.patch.empty()) << action;
  }
  EXPECT_FALSE(read_write_back(R"({"action":"accept","to_status":"Accepted","changed":{}})", w, error));
  EXPECT_FALSE(read_write_back("[]", w, error));
}

TEST(PcReferral, WhatMayStillBeWritten) {
  WriteBack accept{"r", lifecycle::Action::Accept, Status::Accepted, "[]"};
  WriteBack win{"r", lifecycle::Action::Win, Status::Won, "[]"};
  WriteBack update{"r", lifecycle::Action::Update, Status::Accepted, "[]"};
  bool done = false;
  EXPECT_TRUE(write_allowed({"r", "e", "New", "Received"}, accept, done));
  EXPECT_FALSE(done);
  EXPECT_TRUE(write_allowed({"r", "e", "Active", "Accepted"}, accept, done));
  EXPECT_TRUE(done) << "already written before a crash";
  EXPECT_FALSE(write_allowed({"r", "e", "Closed", "Lost"}, accept, done));
  EXPECT_FALSE(write_allowed({"r", "e", "Closed", "Lost"}, win, done));
  EXPECT_FALSE(write_allowed({"r", "e", "New", "Received"}, win, done));
  EXPECT_TRUE(write_allowed({"r", "e", "Active", "Accepted"}, win, done));
  EXPECT_TRUE(write_allowed({"r", "e", "Active", "Accepted"}, update, done));
  EXPECT_FALSE(done) << "a deal update is always sent";
  EXPECT_FALSE(write_allowed({"r", "e", "Closed", "Won"}, update, done));
}

TEST(PcReferral, ConflictEntryIsALeadEvent) {
  const auto entry = conflict_json(R"({"event_id":"L/3","lead_id":"L","version":3,"to_status":"Accepted",)"
                                   R"("referral_id":"r1"})",
                                   "Closed/Lost", "Partner Center has the referral Closed/Lost");
  auto d = parse(entry);
  EXPECT_STREQ(d["action"].GetString(), "conflict");
  EXPECT_STREQ(d["event_id"].GetString(), "L/3/conflict");
  EXPECT_STREQ(d["from_status"].GetString(), "Accepted");
  EXPECT_STREQ(d["conflict"]["partner_center_status"].GetString(), "Closed/Lost");
  EXPECT_STREQ(d["referral_id"].GetString(), "r1");
}

TEST(PcReferral, Times) {
  std::int64_t ms = 0;
  ASSERT_TRUE(util::parse_utc_ms("2026-11-02T10:00:00.1234567Z", ms));
  EXPECT_EQ(ms, 1793613600123);
  ASSERT_TRUE(util::parse_utc_ms("2026-11-02T10:00:00Z", ms));
  EXPECT_EQ(ms, 1793613600000);
  ASSERT_TRUE(util::parse_utc_ms("2026-11-02T10:00:00.5+00:00", ms));
  EXPECT_EQ(ms, 1793613600500);
  for (const auto* bad : {"2026-11-02", "2026-11-02T10:00:00+02:00", "2026-13-02T10:00:00Z", "2026-11-02T10:00:00."}) {
    EXPECT_FALSE(util::parse_utc_ms(bad, ms)) << bad;
  }
}

}  // namespace
}  // namespace leadrelay::connectors::pc_referral
