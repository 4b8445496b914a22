// CRM sinks without a network: the default field mappings for Dynamics, Salesforce and HubSpot, their fallbacks
// and overrides, and the config each type accepts or refuses.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "connectors/crm/crm_config.hpp"
#include "connectors/crm/crm_sink.hpp"
#include "connectors/crm/field_map.hpp"
#include "daemon/app/config.hpp"
#include "daemon/model/lead.hpp"

namespace leadrelay::connectors::crm {
namespace {

model::Lead sample() {
  model::Lead l;
  l.lead_id = "01a20c55-14e2-70f7-b723-ad212abf2572";
  l.received_at_ms = 1795500000000;
  l.contact = {"Jane", "Doe", "Jane.Doe@Contoso.com", "(617) 555-5555", "Contoso", "CTO", "US", "United States"};
  l.offer = {"contoso.analytics-pro", "contoso", "analytics-pro", "Contoso Analytics Pro"};
  l.description = "Interested in a trial";
  l.email_check.verdict = "Valid";
  l.email_check.normalized = "jane.doe@contoso.com";
  l.email_check.domain = "contoso.com";
  l.phone_check.verdict = "Valid";
  l.phone_check.e164 = "+16175555555";
  return l;
}

rapidjson::Document record(const model::Lead& lead, const std::vector<FieldMapping>& fields) {
  std::string json, error;
  EXPECT_TRUE(build_record(model::to_json(lead), fields, json, error)) << error;
  rapidjson::Document d;
  d.Parse(json.c_str());
  return d;
}

TEST(CrmMapping, DynamicsDefaults) {
  const auto r = record(sample(), dynamics_default_fields());
  EXPECT_STREQ(r["firstname"].GetString(), "Jane");
  EXPECT_STREQ(r["lastname"].GetString(), "Doe");
  EXPECT_STREQ(r["emailaddress1"].GetString(), "jane.doe@contoso.com");  // the normalized address
  EXPECT_STREQ(r["telephone1"].GetString(), "+16175555555");             // E.164
  EXPECT_STREQ(r["companyname"].GetString(), "Contoso");
  EXPECT_STREQ(r["jobtitle"].GetString(), "CTO");
  EXPECT_STREQ(r["address1_country"].GetString(), "US");
  EXPECT_STREQ(r["subject"].GetString(), "Contoso Analytics Pro");
  EXPECT_STREQ(r["description"].GetString(), "Interested in a trial");
  EXPECT_STREQ(r["leadsourcecode"].GetString(), "8");
}

TEST(CrmMapping, SalesforceRequiredFieldsHaveFallbacks) {
  auto lead = sample();
  auto r = record(lead, salesforce_default_fields());
  EXPECT_STREQ(r["LastName"].GetString(), "Doe");
  EXPECT_STREQ(r["Company"].GetString(), "Contoso");
  EXPECT_STREQ(r["LeadSource"].GetString(), "Microsoft Marketplace");
  EXPECT_STREQ(r["Phone"].GetString(), "+16175555555");
  // Without a last name or a company: the email and its domain stand in, so Salesforce's required fields hold.
  lead.contact.last_name.clear();
  lead.contact.company.clear();
  r = record(lead, salesforce_default_fields());
  EXPECT_STREQ(r["LastName"].GetString(), "Jane.Doe@Contoso.com");
  EXPECT_STREQ(r["Company"].GetString(), "contoso.com");
  // With nothing at all: a constant.
  lead.contact.email.clear();
  lead.email_check = {};
  r = record(lead, salesforce_default_fields());
  EXPECT_STREQ(r["LastName"].GetString(), "Unknown");
  EXPECT_STREQ(r["Company"].GetString(), "Unknown");
  EXPECT_FALSE(r.HasMember("Email"));  // absent values are left out, never sent as null
}

TEST(CrmMapping, HubSpotDefaults) {
  const auto r = record(sample(), hubspot_default_fields());
  EXPECT_STREQ(r["email"].GetString(), "jane.doe@contoso.com");
  EXPECT_STREQ(r["phone"].GetString(), "+16175555555");
  EXPECT_STREQ(r["hs_lead_status"].GetString(), "NEW");
  EXPECT_STREQ(r["message"].GetString(), "Interested in a trial");
}

TEST(CrmMapping, RawPhoneWhenNotValid) {
  auto lead = sample();
  lead.phone_check = {};
  EXPECT_STREQ(record(lead, hubspot_default_fields())["phone"].GetString(), "(617) 555-5555");
}

class CrmConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("crm-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "crm.secret") << "app-secret\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  app::LoadResult load(const std::string& sinks) {
    return app::load_config_text(
        "state_dir: ./state\nsources: [{name: a, path: /a, format: ms-marketplace, auth: {type: none}}]\n"
        "sinks:\n" + sinks,
        "c.yaml", dir_);
  }
  std::string errors(const std::string& sinks) {
    std::string out;
    for (const auto& e : load(sinks).errors) out += e.to_string() + "\n";
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(CrmConfig, AcceptsEachType) {
  const auto r = load(
      "  - {name: d, type: dynamics, url: \"https://contoso.crm.dynamics.com/\", tenant: contoso.onmicrosoft.com,\n"
      "     client_id: app, client_secret_file: crm.secret, fields: {jobtitle: \"\", new_offer: offer.id}}\n"
      "  - {name: s, type: salesforce, url: \"https://contoso.my.salesforce.com\", client_id: app,\n"
      "     client_secret_file: crm.secret, batch_size: 50, external_id_field: Lead_Key__c}\n"
      "  - {name: h, type: hubspot, token_file: crm.secret}\n");
  ASSERT_TRUE(r.config.has_value()) << r.errors.front().to_string();
  const auto& sinks = r.config->sinks;
  ASSERT_EQ(sinks.size(), 3u);
  const auto& d = sinks[0].get<CrmOptions>();
  EXPECT_EQ(d.url, "https://contoso.crm.dynamics.com");
  EXPECT_EQ(d.token_url, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(d.scope, "https://contoso.crm.dynamics.com/.default");
  EXPECT_EQ(d.client_secret, "app-secret");
  EXPECT_EQ(d.key_field, "leadrelay_leadid");
  const auto has = [&](const std::string& field) {
    return std::any_of(d.fields.begin(), d.fields.end(), [&](const FieldMapping& m) { return m.field == field; });
  };
  EXPECT_FALSE(has("jobtitle"));  // removed by the override
  EXPECT_TRUE(has("new_offer"));  // added
  const auto& s = sinks[1].get<CrmOptions>();
  EXPECT_EQ(s.token_url, "https://contoso.my.salesforce.com/services/oauth2/token");
  EXPECT_EQ(s.batch_size, 50u);
  EXPECT_EQ(s.key_field, "Lead_Key__c");
  const auto& h = sinks[2].get<CrmOptions>();
  EXPECT_EQ(h.url, "https://api.hubapi.com");
  EXPECT_EQ(h.token, "app-secret");
  EXPECT_EQ(h.key_field, "email");
}

TEST_F(CrmConfig, RefusesMistakes) {
  const auto e = errors(
      "  - {name: d, type: dynamics, url: \"https://x.crm.dynamics.com\", client_id: app}\n"
      "  - {name: s, type: salesforce, url: \"ftp://x\", client_id: app, client_secret_file: crm.secret,\n"
      "     client_secret_env: SF_SECRET, batch_size: 500}\n"
      "  - {name: h, type: hubspot, token_file: missing.token, client_id: app}\n");
  EXPECT_NE(e.find("sinks[0].client_secret_env: give exactly one of client_secret_file or client_secret_env"),
            std::string::npos) << e;
  EXPECT_NE(e.find("sinks[0].tenant: needs 'tenant'"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[1].url: expected an https:// URL"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[1].batch_size"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[1].client_secret_file: give exactly one"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[2].token_file: cannot read secret file"), std::string::npos) << e;
  EXPECT_NE(e.find("sinks[2].client_id: unknown key 'client_id'"), std::string::npos) << e;
}

std::chrono::seconds lifetime_of(const std::string& expires_in) {
  http::Response r;
  r.status = 200;
  r.body = R"({"access_token":"t","token_type":"Bearer")" +
           (expires_in.empty() ? std::string() : ",\"expires_in\":" + expires_in) + "}";
  TokenAnswer answer;
  DeliveryResult failure;
  EXPECT_TRUE(read_token_answer(r, answer, failure)) << r.body;
  EXPECT_EQ(answer.access_token, "t");
  return answer.lifetime;
}

TEST(CrmTokenAnswer, ExpiresInAtTheLimits) {
  using std::chrono::seconds;
  EXPECT_EQ(lifetime_of("3599"), seconds(3599));
  EXPECT_EQ(lifetime_of("\"3599\""), seconds(3599));  // some servers send a string
  EXPECT_EQ(lifetime_of("0"), seconds(0));
  EXPECT_EQ(lifetime_of(std::to_string(kMaxTokenLifetime.count())), kMaxTokenLifetime);
  EXPECT_EQ(lifetime_of(std::to_string(kMaxTokenLifetime.count() + 1)), kMaxTokenLifetime);
  EXPECT_EQ(lifetime_of("9223372036854775807"), kMaxTokenLifetime);  // int64 max
  EXPECT_EQ(lifetime_of("18446744073709551615"), kMaxTokenLifetime);  // u64 max
  EXPECT_EQ(lifetime_of("18446744073709551616"), seconds(7200));      // a double to RapidJSON: unread
  EXPECT_EQ(lifetime_of("\"18446744073709551616\""), kMaxTokenLifetime);
  EXPECT_EQ(lifetime_of("\"99999999999999999999\""), kMaxTokenLifetime);  // 20 digits
  EXPECT_EQ(lifetime_of("-1"), seconds(0));                                 // negative: already expired
  EXPECT_EQ(lifetime_of("-9223372036854775808"), seconds(0));
  EXPECT_EQ(lifetime_of("\"-1\""), seconds(7200));  // not a number: as if absent
  EXPECT_EQ(lifetime_of(""), seconds(7200));        // absent (Salesforce): kept until a 401
}

TEST(CrmTokenAnswer, RefusalsAreRetriedWithTheServersWords) {
  http::Response r;
  r.status = 400;
  r.headers["retry-after"] = "30";
  r.body = R"({"error":"invalid_client","error_description":"bad secret"})";
  TokenAnswer answer;
  DeliveryResult failure;
  EXPECT_FALSE(read_token_answer(r, answer, failure));
  EXPECT_EQ(failure.status, DeliveryResult::Status::Retry);
  EXPECT_EQ(failure.retry_after, std::chrono::seconds(30));
  EXPECT_EQ(failure.message, "token endpoint: HTTP 400: invalid_client: bad secret");
  r.status = 200;
  r.body = R"({"access_token":7})";
  EXPECT_FALSE(read_token_answer(r, answer, failure));
  r.body = "not json";
  EXPECT_FALSE(read_token_answer(r, answer, failure));
}

TEST(CrmAnswers, EachCrmJudgesItsOwnAnswers) {
  using Status = DeliveryResult::Status;
  CrmOptions o;
  o.key_field = "Lead_Key__c";
  o.kind = CrmKind::Salesforce;
  const auto salesforce = make_crm_sink(o);
  o.kind = CrmKind::HubSpot;
  const auto hubspot = make_crm_sink(o);
  o.kind = CrmKind::Dynamics;
  const auto dynamics = make_crm_sink(o);
  http::Response r;
  r.status = 300;
  EXPECT_EQ(salesforce->judge(r).status, Status::Permanent);
  r.status = 403;
  r.body = R"([{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}])";
  EXPECT_EQ(salesforce->judge(r).status, Status::Retry);
  EXPECT_EQ(dynamics->judge(r).status, Status::Permanent);
  r.status = 429;
  r.headers["retry-after"] = "99999999999999999999";  // a peer's 20 digits: capped, not wrapped
  EXPECT_EQ(dynamics->judge(r).status, Status::Retry);
  EXPECT_EQ(dynamics->judge(r).retry_after, http::kMaxRetryAfter);
  r = {};
  r.status = 200;
  r.body = R"({"status":"COMPLETE","results":[{"id":"1"}]})";
  EXPECT_EQ(hubspot->judge(r).status, Status::Ok);
  r.body = R"({"status":"COMPLETE","results":[],"errors":[{"message":"Property values were not valid"}]})";
  EXPECT_EQ(hubspot->judge(r).status, Status::Permanent);
  r.body = "[]";
  EXPECT_EQ(hubspot->judge(r).status, Status::Retry);
  EXPECT_EQ(dynamics->judge(r).status, Status::Ok);
  r.status = 204;
  r.body.clear();
  EXPECT_EQ(dynamics->judge(r).status, Status::Ok);
}

TEST(CrmAnswers, SalesforceCollectionsGiveOneResultPerRecord) {
  http::Response r;
  r.status = 200;
  r.body = R"([{"id":"00Q1","success":true,"errors":[]},)"
           R"({"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"locked"}]},)"
           R"({"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"LastName"}]},)"
           R"({"success":false,"errors":["not an object"]}, 7])";
  std::vector<DeliveryResult> out;
  ASSERT_TRUE(salesforce_collection_results(r, 5, out));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].status, DeliveryResult::Status::Ok);
  EXPECT_EQ(out[1].status, DeliveryResult::Status::Retry);
  EXPECT_EQ(out[2].status, DeliveryResult::Status::Permanent);
  EXPECT_EQ(out[2].message, "REQUIRED_FIELD_MISSING: LastName");
  EXPECT_EQ(out[3].status, DeliveryResult::Status::Permanent);
  EXPECT_EQ(out[4].status, DeliveryResult::Status::Permanent);
  EXPECT_FALSE(salesforce_collection_results(r, 4, out));  // not one result per record
  r.body = "{}";
  EXPECT_FALSE(salesforce_collection_results(r, 1, out));
}

}  // namespace
}  // namespace leadrelay::connectors::crm
