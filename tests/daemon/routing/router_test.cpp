// Route tables: first match, fan-out, drop, default, globs, not / any / all; and the config errors for rules.
#include "daemon/routing/router.hpp"

#include <gtest/gtest.h>

#include "daemon/pipeline/pipeline.hpp"

namespace leadrelay::routing {
namespace {

struct Parsed {
  RouteTable table;
  std::vector<std::string> errors;
};

Parsed parse(const std::string& yaml, bool kafka = true) {
  config::Diagnostics diagnostics("routes.yaml");
  RouteContext context{{"marketplace", "proxy"}, {"crm"}, kafka};
  Parsed p;
  p.table = parse_routes(diagnostics, YAML::Load(yaml), context);
  for (const auto& d : diagnostics.items()) p.errors.push_back(d.to_string());
  return p;
}

model::Lead lead() {
  model::Lead l;
  l.lead_id = "01900000-0000-7000-8000-000000000000";
  l.source_name = "marketplace";
  l.format = "ms-marketplace";
  l.origin = model::Origin::AzureMarketplace;
  l.action = {"PLT", model::CallToAction::ContactMe, true, false};
  l.offer = {"contoso.analytics-pro", "contoso", "analytics-pro", "Analytics Pro"};
  l.contact.email = "jane@contoso.com";
  l.contact.country = "US";
  l.contactable = true;
  return l;
}

std::vector<std::string> topics(const Parsed& p, const model::Lead& l) {
  std::vector<std::string> out;
  for (const auto* d : route(p.table, l).destinations) out.push_back(d->name);
  return out;
}

const char* kTable = R"(
- name: validation-leads
  when: {test_lead: true}
  drop: Partner Center validation lead
- name: do-not-contact
  when: {do_not_contact: true}
  drop: cross-listing notice
- name: hot
  when:
    all:
      - call_to_action: ContactMe
      - country: [US, CA]
  to: [{kafka: leads.hot}]
  continue: true
- name: contoso-offers
  when: {publisher: "contoso", offer_id: "analytics-*"}
  to: [{kafka: leads.contoso}]
- name: europe-or-apac
  when:
    any:
      - country: [DE, FR, GB]
      - origin: AzurePortal
  to: [{kafka: leads.intl}]
- name: not-contactable
  when:
    not: {contactable: true}
  to: [{kafka: leads.review}]
- name: default
  to: [{kafka: leads.all}]
)";

TEST(Router, TableParses) {
  const auto p = parse(kTable);
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  EXPECT_EQ(p.table.rules.size(), 7u);
  EXPECT_EQ(p.table.destinations.size(), 5u);
}

TEST(Router, FirstMatchWinsAndContinueFansOut) {
  const auto p = parse(kTable);
  // hot (continue) then contoso-offers (stops).
  EXPECT_EQ(topics(p, lead()), (std::vector<std::string>{"leads.hot", "leads.contoso"}));
  const auto d = route(p.table, lead());
  EXPECT_EQ(d.matched_rules, (std::vector<std::string_view>{"hot", "contoso-offers"}));
}

TEST(Router, GlobsAreCaseInsensitiveAndAnchored) {
  const auto p = parse(kTable);
  auto l = lead();
  l.offer.offer_id = "Analytics-Lite";
  EXPECT_EQ(topics(p, l), (std::vector<std::string>{"leads.hot", "leads.contoso"}));
  l.offer.offer_id = "pre-analytics-pro";
  EXPECT_EQ(topics(p, l), (std::vector<std::string>{"leads.hot", "leads.all"}));
}

TEST(Router, Drop) {
  const auto p = parse(kTable);
  auto l = lead();
  l.test_lead = true;
  const auto d = route(p.table, l);
  EXPECT_TRUE(d.dropped);
  EXPECT_EQ(d.drop_rule, "validation-leads");
  EXPECT_EQ(d.drop_reason, "Partner Center validation lead");
  EXPECT_TRUE(d.destinations.empty());
}

TEST(Router, AnyNotAndDefault) {
  const auto p = parse(kTable);
  auto l = lead();
  l.action = {"INS", model::CallToAction::GetItNowOrFreeTrial, false, false};
  l.offer = {"other.offer", "other", "offer", ""};
  l.contact.country = "DE";
  EXPECT_EQ(topics(p, l), std::vector<std::string>{"leads.intl"});
  l.contact.country = "JP";
  l.origin = model::Origin::AzurePortal;
  EXPECT_EQ(topics(p, l), std::vector<std::string>{"leads.intl"});
  l.origin = model::Origin::AppSource;
  l.contactable = false;
  EXPECT_EQ(topics(p, l), std::vector<std::string>{"leads.review"});
  l.contactable = true;
  EXPECT_EQ(topics(p, l), std::vector<std::string>{"leads.all"});
}

TEST(Router, NoMatchingRuleLeavesTheLeadUnrouted) {
  const auto p = parse("- name: hot\n  when: {call_to_action: ContactMe}\n  to: [{kafka: hot}]\n");
  auto l = lead();
  l.action.call_to_action = model::CallToAction::TestDrive;
  const auto d = route(p.table, l);
  EXPECT_TRUE(d.unrouted());
}

TEST(Router, SameDestinationOnce) {
  const auto p = parse("- name: a\n  to: [{kafka: t}]\n  continue: true\n- name: b\n  to: [{kafka: t}, {kafka: u}]\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  EXPECT_EQ(topics(p, lead()), (std::vector<std::string>{"t", "u"}));
}

TEST(RouterConfig, Errors) {
  EXPECT_EQ(parse("- name: a\n  when: {call_to_acton: ContactMe}\n  to: [{kafka: t}]\n").errors,
            std::vector<std::string>{
                "routes.yaml:2:10: routes[0].when.call_to_acton: unknown field 'call_to_acton'; did you mean "
                "'call_to_action'?"});
  EXPECT_EQ(parse("- name: a\n  when: {call_to_action: ContactMee}\n  to: [{kafka: t}]\n").errors,
            std::vector<std::string>{"routes.yaml:2:26: routes[0].when.call_to_action: 'ContactMee' is never a "
                                     "call_to_action value; did you mean 'ContactMe'?"});
  EXPECT_EQ(parse("- name: a\n  when: {country: [USA]}\n  to: [{kafka: t}]\n").errors,
            std::vector<std::string>{"routes.yaml:2:20: routes[0].when.country: write countries as ISO 3166-1 alpha-2 "
                                     "codes: use 'US' for 'USA'"});
  EXPECT_EQ(parse("- name: a\n  when: {source: marketplce}\n  to: [{kafka: t}]\n").errors,
            std::vector<std::string>{
                "routes.yaml:2:18: routes[0].when.source: no source is named 'marketplce'; did you mean 'marketplace'?"});
  EXPECT_EQ(parse("- name: a\n  to: [crm]\n").errors,
            std::vector<std::string>{
                "routes.yaml:2:8: routes[0].to[0]: unknown destination 'crm'; write {kafka: <topic>} or {sink: <name>}"});
  EXPECT_EQ(parse("- name: a\n  to: [{kafka: 'bad topic'}]\n").errors,
            std::vector<std::string>{"routes.yaml:2:8: routes[0].to[0]: 'bad topic' is not a valid Kafka topic; use "
                                     "1-249 of a-z, A-Z, 0-9, '.', '_' and '-'"});
  EXPECT_EQ(parse("- name: a\n  to: [{kafka: t}]\n", false).errors,
            std::vector<std::string>{
                "routes.yaml:2:8: routes[0].to[0]: routes to Kafka, but there is no 'kafka:' section with brokers"});
  EXPECT_EQ(parse("- name: a\n  when: {country: []}\n  to: [{kafka: t}]\n").errors,
            std::vector<std::string>{
                "routes.yaml:2:19: routes[0].when.country: an empty list matches no lead; remove the rule or add values"});
}

TEST(RouterConfig, ImpossibleRules) {
  EXPECT_EQ(parse("- name: all\n  to: [{kafka: t}]\n- name: later\n  when: {test_lead: true}\n  drop: x\n").errors,
            std::vector<std::string>{"routes.yaml:3:9: routes[1].name: rule 'later' can never match: rule 'all' "
                                     "(line 1) matches every lead and does not continue"});
  EXPECT_EQ(parse("- name: a\n  to: [{kafka: t}]\n  drop: x\n").errors,
            std::vector<std::string>{"routes.yaml:3:9: routes[0].drop: a rule either drops leads or sends them "
                                     "somewhere: remove 'to' or 'drop'"});
  EXPECT_EQ(parse("- name: a\n  when: {test_lead: true}\n").errors,
            std::vector<std::string>{"routes.yaml:1:9: routes[0].name: needs 'to: [...]' or 'drop: <reason>'"});
  EXPECT_EQ(parse("- name: a\n  drop: x\n  continue: true\n").errors,
            std::vector<std::string>{
                "routes.yaml:3:13: routes[0].continue: a dropped lead goes no further: remove 'continue'"});
  EXPECT_EQ(parse("- name: a\n  to: [{kafka: t}]\n  continue: true\n- name: a\n  to: [{kafka: u}]\n").errors,
            std::vector<std::string>{"routes.yaml:4:9: routes[1].name: another rule is already named 'a'"});
}

TEST(Pipeline, NormalizesRoutesAndKeys) {
  const auto p = parse(kTable);
  auto l = lead();
  l.contact.email = "  Jane@Contoso.COM ";
  const auto o = pipeline::run(p.table, l);
  EXPECT_EQ(o.kind, pipeline::Outcome::Kind::Routed);
  EXPECT_EQ(l.contact.email, "jane@contoso.com");
  EXPECT_EQ(pipeline::message_key(l), "jane@contoso.com");
  l.contact.email.clear();
  l.contact.phone = "+1 (617) 555-5555";
  EXPECT_EQ(pipeline::message_key(l), "+16175555555");
  l.contact.phone.clear();
  EXPECT_EQ(pipeline::message_key(l), l.lead_id);
  l.test_lead = true;
  EXPECT_EQ(pipeline::run(p.table, l).kind, pipeline::Outcome::Kind::Dropped);
}

TEST(PipelineDedup, LinksToTheFirstLeadAndUpgradesToContactMe) {
  const auto p = parse("- name: dupes\n  when: {duplicate: true}\n  to: [{kafka: dupes}]\n- name: all\n  to: [{kafka: all}]\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  auto first = lead();
  first.action = {"INS", model::CallToAction::GetItNowOrFreeTrial, false, false};
  auto o = pipeline::run(p.table, first);
  EXPECT_EQ(first.occurrence, 1);
  EXPECT_EQ(first.duplicate_of, "");
  EXPECT_EQ(first.action_history, std::vector<std::string>{"INS"});
  EXPECT_EQ(o.destinations.front().name, "all");

  // Then Contact me: linked, and the partner must act.
  auto second = lead();
  second.lead_id = "01900000-0000-7000-8000-000000000002";
  pipeline::PriorLeads prior{first.lead_id, 1, {"INS"}};
  o = pipeline::run(p.table, second, &prior);
  EXPECT_EQ(second.duplicate_of, first.lead_id);
  EXPECT_EQ(second.occurrence, 2);
  EXPECT_EQ(second.action_history, (std::vector<std::string>{"INS", "PLT"}));
  EXPECT_EQ(o.destinations.front().name, "dupes");

  // Then a Test drive: still a Contact me lead, because the customer asked earlier.
  auto third = lead();
  third.action = {"StartTestDrive", model::CallToAction::TestDrive, false, false};
  pipeline::PriorLeads prior2{first.lead_id, 2, {"INS", "PLT"}};
  pipeline::run(p.table, third, &prior2);
  EXPECT_EQ(third.occurrence, 3);
  EXPECT_EQ(third.action.call_to_action, model::CallToAction::ContactMe);
  EXPECT_TRUE(third.action.partner_action_required);
  EXPECT_EQ(third.action.code, "StartTestDrive");
}

TEST(PipelineDedup, ActionHistoryIsBoundedButKeepsTheFirstAndAContactMe) {
  const auto p = parse("- name: all\n  to: [{kafka: all}]\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  // 2,000 earlier occurrences: a Get it now first, one Contact me among many Test drives.
  pipeline::PriorLeads prior{"01900000-0000-7000-8000-000000000001", 2000, {"INS"}};
  for (int i = 1; i < 2000; ++i) prior.actions.push_back(i == 700 ? "PLT" : "StartTestDrive");
  auto next = lead();
  next.action = {"INS", model::CallToAction::GetItNowOrFreeTrial, false, false};
  pipeline::run(p.table, next, &prior);
  EXPECT_EQ(next.occurrence, 2001);
  ASSERT_EQ(next.action_history.size(), pipeline::kMaxActionHistory);
  EXPECT_EQ(next.action_history.front(), "INS");                       // how the person first came
  EXPECT_EQ(next.action_history[1], "PLT");                            // the Contact me, kept
  EXPECT_EQ(next.action_history[2], "StartTestDrive");                 // then the latest ones
  EXPECT_EQ(next.action_history.back(), "INS");                        // ending with this lead's
  EXPECT_EQ(next.action.call_to_action, model::CallToAction::ContactMe);  // still a lead to act on
  EXPECT_TRUE(next.action.partner_action_required);

  // Several Contact me: the oldest go like any other code, and the latest stay.
  pipeline::PriorLeads plts{prior.first_lead_id, 40, std::vector<std::string>(40, "PLT")};
  auto again = lead();
  pipeline::run(p.table, again, &plts);
  EXPECT_EQ(again.action_history, std::vector<std::string>(pipeline::kMaxActionHistory, "PLT"));
}

TEST(PipelineDedup, PersonKey) {
  auto l = lead();
  l.contact.email = " Jane@Contoso.COM ";
  l.offer.id = "Contoso.Analytics-Pro";
  EXPECT_EQ(pipeline::person_key(l), "jane@contoso.com|contoso.analytics-pro");
  l.contact.email.clear();
  l.contact.phone = "+1 617-555-5555";
  EXPECT_EQ(pipeline::person_key(l), "+16175555555|contoso.analytics-pro");
  l.contact.phone.clear();
  EXPECT_EQ(pipeline::person_key(l), "");
}

TEST(LeadJson, RoundTrips) {
  auto l = lead();
  l.received_at_ms = 1732320000123;
  l.description = "two\nlines";
  l.contact.country_raw = "USA";
  l.duplicate_of = "01900000-0000-7000-8000-000000000001";
  l.occurrence = 3;
  l.action_history = {"INS", "PLT"};
  model::Lead back;
  std::string error;
  ASSERT_TRUE(model::from_json(model::to_json(l), back, error)) << error;
  EXPECT_EQ(model::to_json(back), model::to_json(l));
  EXPECT_FALSE(model::from_json("{}", back, error));
}

}  // namespace
}  // namespace leadrelay::routing
