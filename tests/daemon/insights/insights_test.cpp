// The insights' query string and widgets as pure functions: whole-month ranges across year ends, custom ranges and
// their limits, the change rules, currency conversion and the funnel's groups.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "daemon/insights/query.hpp"
#include "daemon/insights/widgets.hpp"

namespace leadrelay::insights {
namespace {

std::int64_t at(std::string_view month, int day) {
  std::int64_t ms = 0;
  EXPECT_TRUE(month_start(month, ms));
  return ms + static_cast<std::int64_t>(day - 1) * 86400000 + 12 * 3600000;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

store::InsightCell cell(std::string month, std::string status, std::int64_t n, double value = 0,
                        std::string currency = "") {
  store::InsightCell c;
  c.month = std::move(month);
  c.status = std::move(status);
  c.n = n;
  c.value = value;
  c.currency = std::move(currency);
  c.lead_type = "offer";
  c.call_to_action = "ContactMe";
  c.classification = "customer_inquiry";
  return c;
}

TEST(InsightsQuery, RangesAreWholeMonthsAcrossTheYearEnd) {
  Query q;
  ASSERT_EQ(parse_query("", at("2027-01", 15), q).message, "");
  EXPECT_EQ(q.range.months, (std::vector<std::string>{"2026-10", "2026-11", "2026-12", "2027-01"}));
  EXPECT_EQ(q.range.partial, "2027-01");
  EXPECT_EQ(q.range.full_months(), (std::vector<std::string>{"2026-10", "2026-11", "2026-12"}));
  EXPECT_EQ(q.range.from_ms, at("2026-10", 1) - 12 * 3600000);
  EXPECT_EQ(q.range.to_ms, at("2027-01", 15));  // now
  EXPECT_EQ(q.filter.classification, std::vector<std::string>{"customer_inquiry"});

  Query six;
  ASSERT_EQ(parse_query("range=6M&tab=qualified", at("2026-03", 2), six).message, "");
  EXPECT_EQ(six.range.months.front(), "2025-09");
  EXPECT_EQ(six.filter.classification, (std::vector<std::string>{"marketing_qualified", "sales_qualified"}));
}

TEST(InsightsQuery, CustomRanges) {
  Query q;
  ASSERT_EQ(parse_query("range=custom&from=2025-11&to=2026-02", at("2026-06", 1), q).message, "");
  EXPECT_EQ(q.range.months, (std::vector<std::string>{"2025-11", "2025-12", "2026-01", "2026-02"}));
  EXPECT_EQ(q.range.partial, "");
  EXPECT_EQ(q.range.to_ms, at("2026-03", 1) - 12 * 3600000);
  // A `to` in the future stops at the current month, which is then partial.
  Query ahead;
  ASSERT_EQ(parse_query("range=custom&from=2026-05&to=2027-01", at("2026-06", 10), ahead).message, "");
  EXPECT_EQ(ahead.range.months, (std::vector<std::string>{"2026-05", "2026-06"}));
  EXPECT_EQ(ahead.range.partial, "2026-06");
  const std::pair<const char*, const char*> bad[] = {
      {"range=custom&from=2026-05", "to"},          {"range=custom&from=2026-13&to=2026-14", "from"},
      {"range=custom&from=2026-04&to=2026-01", "from"}, {"range=custom&from=2030-01&to=2030-02", "from"},
      {"range=custom&from=2020-01&to=2026-01", "from"}, {"range=3M&from=2026-01", "from"},
      {"range=2M", "range"},                        {"tab=referrals", "tab"},
      {"lead_type=offers", "lead_type"},            {"country=USA", "country"},
      {"values=US", "values"},                      {"by=country&values=US,DE,GB,FR", "values"},
      {"contry=US", "contry"},                      {"measure=sum", "measure"},
  };
  for (const auto& [query, field] : bad) {
    Query x;
    const auto p = parse_query(query, at("2026-06", 10), x);
    EXPECT_EQ(p.field, field) << query << ": " << p.message;
    EXPECT_FALSE(p.message.empty()) << query;
  }
  Query suggest;
  EXPECT_NE(parse_query("contry=US", at("2026-06", 10), suggest).message.find("did you mean 'country'"),
            std::string::npos);
}

TEST(InsightsQuery, FiltersTakeSeveralValues) {
  Query q;
  ASSERT_EQ(parse_query("country=us,De&offer=a.b,c.d&customer=Fabrikam&by=country&values=jp", at("2026-06", 1), q)
                .message,
            "");
  EXPECT_EQ(q.filter.country, (std::vector<std::string>{"US", "DE"}));
  EXPECT_EQ(q.filter.offer, (std::vector<std::string>{"a.b", "c.d"}));
  EXPECT_EQ(q.filter.customer, std::vector<std::string>{"Fabrikam"});
  EXPECT_EQ(q.values, std::vector<std::string>{"JP"});
}

TEST(InsightsWidgets, ChangeRules) {
  EXPECT_EQ(change_json(0, 0), "0");
  EXPECT_EQ(change_json(0, 5), "\"new\"");
  EXPECT_EQ(change_json(8, 10), "25.0");
  EXPECT_EQ(change_json(16, 15), "-6.3");  // -6.25 rounds half away from zero
  EXPECT_EQ(change_json(4, 0), "-100.0");
}

TEST(InsightsWidgets, SummaryConvertsCurrenciesAndKeepsTheOthersApart) {
  Query q;
  ASSERT_EQ(parse_query("range=custom&from=2026-01&to=2026-03", at("2026-06", 1), q).message, "");
  const std::vector<store::InsightCell> cells = {
      cell("2026-01", "Won", 2, 1000, "USD"), cell("2026-01", "Won", 1, 100, "EUR"),
      cell("2026-03", "Won", 1, 5000, "JPY"), cell("2026-03", "Received", 4), cell("2026-02", "Accepted", 1, 9, "USD")};
  const UsdRates rates = {{"EUR", 1.5}};
  const auto d = parse(widget("summary", {q, cells, rates}));
  ASSERT_TRUE(d.HasMember("tiles"));
  const auto& tiles = d["tiles"];
  EXPECT_STREQ(tiles[0]["name"].GetString(), "leads");
  EXPECT_EQ(tiles[0]["value"].GetDouble(), 9);
  EXPECT_EQ(tiles[0]["change"].GetDouble(), 66.7);  // 3 in January, 5 in March
  EXPECT_EQ(tiles[2]["change"].GetInt(), 0);  // no profile lead in either month: 0 to 0
  EXPECT_STREQ(tiles[3]["name"].GetString(), "won_value");
  EXPECT_EQ(tiles[3]["value"].GetDouble(), 1150);  // 1000 USD + 100 EUR x 1.5; the JPY apart
  ASSERT_EQ(d["unconverted"].Size(), 1u);
  EXPECT_STREQ(d["unconverted"][0]["currency"].GetString(), "JPY");
  EXPECT_EQ(d["unconverted"][0]["value"].GetDouble(), 5000);
}

TEST(InsightsWidgets, EmptyAnswersSayWhy) {
  Query q;
  ASSERT_EQ(parse_query("", at("2026-06", 1), q).message, "");
  const std::vector<store::InsightCell> none;
  for (const auto w : kWidgets) {
    const auto stored = parse(widget(w, {q, none, {}, true}));
    EXPECT_STREQ(stored["no_data"]["reason"].GetString(), "no_match") << w;
    const auto empty = parse(widget(w, {q, none, {}, false}));
    EXPECT_STREQ(empty["no_data"]["reason"].GetString(), "no_leads") << w;
    EXPECT_EQ(empty["range"]["months"].Size(), 4u);
  }
}

}  // namespace
}  // namespace leadrelay::insights
