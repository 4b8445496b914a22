// The leads API's pure parts: its query strings, the export's cells and cut note, tokens and roles, and the CRM
// status updates a lead event becomes.
#include <gtest/gtest.h>

#include "connectors/crm/crm_config.hpp"
#include "connectors/crm/crm_sink.hpp"
#include "daemon/api/access.hpp"
#include "daemon/api/export.hpp"
#include "daemon/api/lead_query.hpp"
#include "daemon/util/digest.hpp"

namespace leadrelay::api {
namespace {

QueryProblem parse(std::string_view q, store::LeadFilter& f) { return parse_lead_query(q, f, 500); }

TEST(LeadQuery, FiltersTakeSeveralValuesAndAreChecked) {
  store::LeadFilter f;
  EXPECT_EQ(parse("status=Received,Accepted&country=us,de&customer=Fabrikam%20Ltd&hot=true&limit=20", f).message, "");
  EXPECT_EQ(f.status, (std::vector<std::string>{"Received", "Accepted"}));
  EXPECT_EQ(f.country, (std::vector<std::string>{"US", "DE"}));
  EXPECT_EQ(f.customer, "Fabrikam Ltd");
  EXPECT_EQ(f.hot, true);
  EXPECT_EQ(f.limit, 20);
  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"status=New", "status"}, {"status=", "status"}, {"country=USA", "country"}, {"limit=501", "limit"},
           {"limit=-1", "limit"}, {"favorite=1", "favorite"}, {"from=2026-13-01", "from"}, {"cursor=s", "cursor"},
           {"stauts=Received", "stauts"}, {"lead_source=Azure", "lead_source"}, {"customer=", "customer"}}) {
    store::LeadFilter g;
    const auto p = parse(query, g);
    EXPECT_EQ(p.field, field) << query;
    EXPECT_FALSE(p.message.empty()) << query;
  }
  store::LeadFilter g;
  EXPECT_NE(parse("stauts=Received", g).message.find("did you mean 'status'"), std::string::npos);
}

TEST(LeadQuery, TimesAndCursors) {
  std::int64_t ms = 0;
  ASSERT_TRUE(parse_time("2026-11-30", ms));
  EXPECT_EQ(ms, 1795996800000);
  ASSERT_TRUE(parse_time("2026-11-30T12:00:00Z", ms));
  EXPECT_EQ(ms, 1795996800000 + 12 * 3600000);
  ASSERT_TRUE(parse_time("2026-11-30T12:00:00.250Z", ms));
  EXPECT_EQ(ms % 1000, 250);
  EXPECT_FALSE(parse_time("30.11.2026", ms));
  EXPECT_FALSE(parse_time("2026-11-30T25:00:00Z", ms));
  store::LeadFilter f;
  EXPECT_EQ(parse("from=2026-11-01&to=2026-11-30", f).message, "");
  EXPECT_EQ(f.to_ms - f.from_ms, 30LL * 86400000);  // `to` as a date includes that day
  EXPECT_EQ(decode_cursor(encode_cursor(12345)), 12345);
  EXPECT_EQ(decode_cursor("12345"), 0);
  EXPECT_EQ(decode_cursor("s99999999999999999999999"), 0);
}

TEST(Export, CellsAreQuotedAndGuarded) {
  EXPECT_EQ(export_cell("plain", ExportFormat::Csv), "plain");
  EXPECT_EQ(export_cell("a,b", ExportFormat::Csv), "\"a,b\"");
  EXPECT_EQ(export_cell("say \"hi\"", ExportFormat::Csv), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(export_cell("two\nlines", ExportFormat::Csv), "\"two\nlines\"");
  for (const char* formula : {"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    const auto cell = export_cell(formula, ExportFormat::Csv);
    EXPECT_EQ(cell.find('\''), cell[0] == '"' ? 1u : 0u) << formula;
  }
  EXPECT_EQ(export_cell("=HYPERLINK(\"x\")", ExportFormat::Csv), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(export_cell("a\tb\nc", ExportFormat::Tsv), "a b c");
  EXPECT_EQ(export_cell("=cmd", ExportFormat::Tsv), "'=cmd");
}

TEST(Export, SaysWhenItIsCut) {
  const auto none = export_table({}, ExportFormat::Csv, 0);
  EXPECT_EQ(none.find("# newest"), std::string::npos);
  EXPECT_EQ(none.substr(0, 21), "LeadCreationDateTime,");
  const auto cut = export_table({}, ExportFormat::Csv, 123456);
  EXPECT_NE(cut.find("# newest 0 of 123,456\r\n"), std::string::npos);
}

TEST(Access, TokensRolesAndRefusals) {
  const auto token = [](std::string name, std::string role, std::string secret) {
    const auto d = util::sha256(secret);
    return http::AdminToken{std::move(name), std::move(role), std::string(d.begin(), d.end())};
  };
  const Access access({token("ops", "operator", "ops-secret-0123456789"), token("sales", "referrals_admin",
                                                                               "sales-secret-0123456789"),
                       token("bi", "viewer", "bi-secret-0123456789")});
  http::AdminResponse refusal;
  EXPECT_FALSE(access.authorize("", Role::Viewer, refusal));
  EXPECT_EQ(refusal.status, 401);
  EXPECT_FALSE(access.authorize("Bearer wrong", Role::Viewer, refusal));
  EXPECT_EQ(refusal.status, 401);
  EXPECT_FALSE(access.authorize("Basic b3BzLXNlY3JldA==", Role::Operator, refusal));
  EXPECT_EQ(refusal.status, 401);
  const auto sales = access.authorize("Bearer sales-secret-0123456789", Role::Viewer, refusal);
  ASSERT_TRUE(sales);
  EXPECT_EQ(sales->name, "sales");
  EXPECT_TRUE(access.authorize("Bearer sales-secret-0123456789", Role::ReferralsAdmin, refusal));
  EXPECT_FALSE(access.authorize("Bearer sales-secret-0123456789", Role::Operator, refusal));
  EXPECT_EQ(refusal.status, 403);
  EXPECT_FALSE(access.authorize("Bearer bi-secret-0123456789", Role::ReferralsAdmin, refusal));
  EXPECT_EQ(refusal.status, 403);
  EXPECT_FALSE(access.authorize("Bearer ops-secret-0123456789", Role::Viewer, refusal));
  EXPECT_EQ(refusal.status, 403);
  EXPECT_TRUE(access.authorize("Bearer ops-secret-0123456789", Role::Operator, refusal));
  const Access none({});
  EXPECT_FALSE(none.authorize("Bearer anything", Role::Viewer, refusal));
  EXPECT_NE(refusal.body.find("no admin.tokens"), std::string::npos);
}

TEST(CrmStatus, EventsBecomeTheMappedFields) {
  std::string fields;
  const auto event = [](const char* to) {
    return std::string(R"({"schema":"lead-event.v1","to_status":")") + to + "\"}";
  };
  ASSERT_TRUE(connectors::crm::status_fields(event("Won"), connectors::crm::dynamics_default_statuses(), fields));
  EXPECT_EQ(fields, R"({"statecode":1,"statuscode":3})");
  ASSERT_TRUE(connectors::crm::status_fields(event("Lost"), connectors::crm::salesforce_default_statuses(), fields));
  EXPECT_EQ(fields, R"({"Status":"Closed - Not Converted"})");
  ASSERT_TRUE(connectors::crm::status_fields(event("Won"), connectors::crm::hubspot_default_statuses(), fields));
  EXPECT_EQ(fields, R"({"hs_lead_status":"OPEN_DEAL","lifecyclestage":"customer"})");
  ASSERT_TRUE(connectors::crm::status_fields(event("Informational"), connectors::crm::hubspot_default_statuses(),
                                             fields));
  EXPECT_EQ(fields, "");  // nothing to set
  EXPECT_FALSE(connectors::crm::status_fields("{}", connectors::crm::hubspot_default_statuses(), fields));
}

}  // namespace
}  // namespace leadrelay::api
