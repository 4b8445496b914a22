// Notifications without the daemon: local days and times, which rules ask for which messages, the store's
// at-once-or-digest decision, what the templates make of a document (escaping), and the mail and chat encodings.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "connectors/notify/chat_sink.hpp"
#include "connectors/notify/smtp_sink.hpp"
#include "connectors/notify/templates.hpp"
#include "daemon/model/lead_id.hpp"
#include "daemon/notify/document.hpp"
#include "daemon/notify/planner.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::notify {
namespace {

std::int64_t utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  using namespace std::chrono;
  return duration_cast<milliseconds>((sys_days(year_month_day{year(y), month(m), day(d)}) + hours(h) + minutes(min))
                                         .time_since_epoch())
      .count();
}

std::shared_ptr<const Zone> zone(const char* name) {
  std::string error;
  auto z = Zone::open(name, error);
  EXPECT_TRUE(z) << error;
  return z;
}

TEST(LocalTime, DaysAndWallTimesFollowTheZoneAndDaylightSaving) {
  const auto berlin = zone("Europe/Berlin");
  // 23:30 UTC on 15 January is already the 16th in Berlin (UTC+1); in July (UTC+2) 22:30 UTC is too.
  EXPECT_EQ(berlin->day(utc(2027, 1, 15, 23, 30)), "2027-01-16");
  EXPECT_EQ(berlin->day(utc(2027, 1, 15, 22, 59)), "2027-01-15");
  EXPECT_EQ(berlin->day(utc(2027, 7, 15, 22, 30)), "2027-07-16");
  // 08:00 the next morning, in winter and in summer.
  EXPECT_EQ(berlin->at("2027-01-15", 1, 8 * 60), utc(2027, 1, 16, 7));
  EXPECT_EQ(berlin->at("2027-07-15", 1, 8 * 60), utc(2027, 7, 16, 6));
  // The night the clocks go forward (28 March 2027, 02:00 -> 03:00): 08:00 is 06:00 UTC.
  EXPECT_EQ(berlin->at("2027-03-27", 1, 8 * 60), utc(2027, 3, 28, 6));
  EXPECT_EQ(berlin->format(utc(2027, 1, 15, 21, 5)), "2027-01-15 22:05 Europe/Berlin");
  const auto ny = zone("America/New_York");
  EXPECT_EQ(ny->day(utc(2027, 1, 16, 3)), "2027-01-15");
  EXPECT_EQ(berlin->at("not a day", 1, 0), 0);
  std::string error;
  EXPECT_FALSE(Zone::open("Mars/Olympus", error));
  EXPECT_NE(error.find("unknown time zone 'Mars/Olympus'"), std::string::npos);
}

NotifyConfig config(const std::string& rules_yaml) {
  NotifyConfig c;
  c.configured = true;
  c.timezone = "Europe/Berlin";
  c.zone = zone("Europe/Berlin");
  c.console_base_url = "https://leads.example.com";
  config::Diagnostics diagnostics("test.yaml");
  const auto node = YAML::Load(rules_yaml);
  routing::RouteContext context;
  for (std::size_t i = 0; i < node.size(); ++i) {
    NotifyRule r;
    r.name = node[i]["name"].as<std::string>();
    r.to = {"admins@example.com"};
    r.destinations = {"notify:email"};
    if (node[i]["when"]) {
      r.has_when = true;
      r.when = routing::parse_condition(diagnostics, node[i]["when"], "when", context);
    }
    r.hot_when = routing::parse_condition(
        diagnostics, node[i]["hot_when"] ? node[i]["hot_when"] : YAML::Load("{requested_contact: true}"), "hot_when",
        context);
    if (node[i]["digest"]) r.digest = node[i]["digest"].as<bool>();
    c.rules.push_back(std::move(r));
  }
  EXPECT_TRUE(diagnostics.empty());
  return c;
}

model::Lead contact_me(const std::string& name) {
  model::Lead l;
  l.lead_id = model::new_lead_id(1700000000000);  // ids made once per process move forward only: keep them old
  l.received_at_ms = utc(2027, 1, 15, 21);
  l.contact.first_name = name;
  l.contact.email = "buyer@fabrikam.example";
  l.contact.company = "Fabrikam";
  l.offer.id = "contoso.analytics";
  l.action.call_to_action = model::CallToAction::ContactMe;
  l.action.partner_action_required = true;
  l.customer_requested_contact = true;  // every Contact me: hot in the workspace, not `hot` for notifications
  return l;
}

model::Lifecycle received(const model::Lead& l) {
  model::Lifecycle lc;
  lc.status = model::Status::Received;
  lc.received_at_ms = l.received_at_ms;
  lc.expires_at_ms = l.received_at_ms + 14 * 86400000LL;
  lc.hot_until_ms = l.received_at_ms + 72 * 3600000LL;
  return lc;
}

TEST(Planner, DefaultRulesTellOfLeadsThatNeedAnAnswerAndHotMeansACallRequest) {
  const auto c = config("[{name: admins}, {name: fr, when: {country: FR}, digest: false}]");
  auto lead = contact_me("Jo");
  auto plans = plan(c, lead, received(lead), lead.received_at_ms);
  ASSERT_EQ(plans.size(), 1u);  // country FR does not hold
  EXPECT_EQ(plans[0].rule, "admins");
  EXPECT_EQ(plans[0].day, "2027-01-15");
  EXPECT_FALSE(plans[0].hot);  // a Contact me press alone is not a call request
  EXPECT_TRUE(plans[0].single);
  EXPECT_TRUE(plans[0].digest);
  EXPECT_EQ(plans[0].destinations, std::vector<std::string>{"notify:email"});
  rapidjson::Document doc;
  doc.Parse(plans[0].document.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["leads"][0]["name"].GetString(), "Jo");
  EXPECT_STREQ(doc["leads"][0]["call_to_action"].GetString(), "Contact me");
  EXPECT_STREQ(doc["leads"][0]["link"].GetString(), ("https://leads.example.com/console/leads/" + lead.lead_id).c_str());
  EXPECT_STREQ(doc["leads"][0]["expires_at"].GetString(), "2027-01-29 22:00 Europe/Berlin");

  lead.referral.id = "r-1";
  lead.referral.customer_requested_contact = true;
  lead.contact.country = "FR";
  plans = plan(c, lead, received(lead), lead.received_at_ms);
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_TRUE(plans[0].hot);
  EXPECT_FALSE(plans[1].digest);

  // An informational lead (Get it now) needs no answer: no rule without `when` tells of it.
  auto info = contact_me("Ann");
  info.action.call_to_action = model::CallToAction::GetItNow;
  info.action.partner_action_required = false;
  EXPECT_TRUE(plan(c, info, received(info), info.received_at_ms).empty());
  NotifyConfig off;
  EXPECT_TRUE(plan(off, lead, received(lead), lead.received_at_ms).empty());
}

class NotificationStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("leadrelay-notify-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::string error;
    journal_ = store::Journal::open(dir_, {}, error);
    ASSERT_TRUE(journal_) << error;
    reader_ = store::Reader::open(dir_, error);
    ASSERT_TRUE(reader_) << error;
  }
  void TearDown() override {
    journal_.reset();
    reader_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Routes one lead with one request for rule "admins" on `day` (digest after 3); "<kind>:<document>" of the
  // delivery it made, or "not sent".
  std::string route(int n, const std::string& day, bool hot = false, bool single = true) {
    std::promise<store::AppendResult> appended;
    const auto id = model::new_lead_id(1700000000000 + n);
    journal_->append(store::Entry{id, "mp", utc(2027, 1, 15, 21) + n, "{}", "ms-marketplace", {}, 0},
                     [&](store::AppendResult r) { appended.set_value(std::move(r)); });
    EXPECT_EQ(appended.get_future().get().status, store::AppendStatus::Committed);
    std::vector<store::JournaledLead> rows;
    std::string error;
    reader_->next_to_route(cursor_, 1, rows, error);
    EXPECT_EQ(rows.size(), 1u);
    store::RoutingRecord r;
    r.seq = rows.at(0).seq;
    cursor_ = r.seq;
    r.lead_id = id;
    r.lead_json = "{}";
    r.msg_key = id;
    r.state = store::RoutingState::Unrouted;
    r.outcome = "no rule matched";
    store::LifecycleRecord lc;
    lc.lifecycle.status = model::Status::Received;
    lc.lifecycle.received_at_ms = utc(2027, 1, 15, 21) + n;
    r.lifecycle = lc;
    store::NotificationRequest q;
    q.rule = "admins";
    q.day = day;
    q.hot = hot;
    q.single = single;
    q.digest = true;
    q.digest_after = 3;
    q.document = "{\"n\":" + std::to_string(n) + "}";
    q.destinations = {"notify:email"};
    r.notifications.push_back(q);
    store::DeliveryTotals added;
    EXPECT_TRUE(journal_->write([&](store::Transaction& tx, std::string& e) {
      added = {};
      return tx.record_routing(std::vector<store::RoutingRecord>{r}, r.seq, e, &added);
    }));
    std::vector<store::PendingDelivery> pending;
    reader_->pending_deliveries("notify:email", 0, 1000, pending, error);
    for (const auto& p : pending) {
      if (p.lead_id == id) return std::string(connectors::notify::kind_of_key(p.msg_key)) + ":" + p.lead_json;
    }
    return added.count == 0 ? "not sent" : "?";
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Journal> journal_;
  std::unique_ptr<store::Reader> reader_;
  std::int64_t cursor_ = 0;
};

TEST_F(NotificationStore, FirstLeadsOfADayAtOnceThenHeldHotNeverHeldAndTheDigestOnce) {
  EXPECT_EQ(route(1, "2027-01-15"), "new_lead:{\"n\":1}");
  EXPECT_EQ(route(2, "2027-01-15"), "new_lead:{\"n\":2}");
  EXPECT_EQ(route(3, "2027-01-15"), "new_lead:{\"n\":3}");
  EXPECT_EQ(route(4, "2027-01-15"), "not sent");
  EXPECT_EQ(route(5, "2027-01-15", true), "hot:{\"n\":5}");
  EXPECT_EQ(route(6, "2027-01-15"), "not sent");
  EXPECT_EQ(route(7, "2027-01-16"), "new_lead:{\"n\":7}");  // a new day counts from 0
  std::vector<store::HeldDay> days;
  std::string error;
  ASSERT_TRUE(reader_->held_days(days, error)) << error;
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].day, "2027-01-15");
  std::vector<store::LeadRow> held;
  ASSERT_TRUE(reader_->held_leads(days[0], held, error)) << error;
  EXPECT_EQ(held.size(), 2u);

  store::Notification digest;
  digest.key = "digest|admins|2027-01-15";
  digest.kind = "digest";
  digest.rule = "admins";
  digest.day = "2027-01-15";
  digest.lead_seq = held.back().seq;
  digest.document = "{\"digest\":1}";
  digest.destinations = {"notify:email"};
  for (int i = 0; i < 2; ++i) {
    bool created = false;
    store::DeliveryTotals added;
    ASSERT_TRUE(journal_->write([&](store::Transaction& tx, std::string& e) {
      return tx.record_notification(digest, 0, created, added, e);
    }));
    EXPECT_EQ(created, i == 0);
    EXPECT_EQ(added.count, i == 0 ? 1 : 0);
  }
  days.clear();
  ASSERT_TRUE(reader_->held_days(days, error));
  EXPECT_TRUE(days.empty());
  // A lead of that day routed after its digest went out is sent on its own.
  EXPECT_EQ(route(8, "2027-01-15"), "new_lead:{\"n\":8}");
  // A digest-only rule keeps such a lead for the expiry warning, sending nothing.
  EXPECT_EQ(route(9, "2027-01-15", false, false), "not sent");
}

TEST(Templates, EscapeHtmlOnlyAndRefuseUnknownKindsAndBadTemplates) {
  std::string error;
  const auto t = connectors::notify::Templates::load("", error);
  ASSERT_TRUE(t) << error;
  NotifyConfig c = config("[{name: admins}]");
  auto lead = contact_me("<script>x</script> Zoë");
  lead.contact.company = "A & B";
  const auto doc = lead_document(c, c.rules[0], {lead, received(lead)}, lead.received_at_ms);
  connectors::notify::Message m;
  ASSERT_TRUE(t->render("new_lead", doc, m, error)) << error;
  EXPECT_EQ(m.subject, "New lead: <script>x</script> Zoë (A & B) for contoso.analytics");
  EXPECT_NE(m.text.find("<script>x</script> Zoë"), std::string::npos);
  EXPECT_EQ(m.html.find("<script>"), std::string::npos);
  EXPECT_NE(m.html.find("&lt;script&gt;x&lt;/script&gt; Zoë"), std::string::npos);
  EXPECT_NE(m.html.find("A &amp; B"), std::string::npos);
  EXPECT_EQ(m.to, std::vector<std::string>{"admins@example.com"});
  EXPECT_FALSE(t->render("surprise", doc, m, error));
  EXPECT_FALSE(t->render("new_lead", "not json", m, error));

  const auto dir = std::filesystem::temp_directory_path() / ("leadrelay-templates-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "lead.subject.mustache") << "Lead {{#lead}}{{name}}{{/lead}";
  EXPECT_FALSE(connectors::notify::Templates::load(dir.string(), error));
  EXPECT_NE(error.find("lead.subject.mustache in " + dir.string()), std::string::npos) << error;
  std::ofstream(dir / "lead.subject.mustache") << "Call {{#lead}}{{name}}{{/lead}}";
  const auto custom = connectors::notify::Templates::load(dir.string(), error);
  ASSERT_TRUE(custom) << error;
  ASSERT_TRUE(custom->render("hot", doc, m, error)) << error;
  EXPECT_EQ(m.subject, "Call <script>x</script> Zoë");
  std::filesystem::remove_all(dir);
}

TEST(Mail, HeaderWordsAndMessageIds) {
  using connectors::notify::encode_header_word;
  EXPECT_EQ(encode_header_word("New lead: Jo"), "New lead: Jo");
  EXPECT_EQ(encode_header_word("a\r\nBcc: x@y"), "a  Bcc: x@y");  // no header injection
  EXPECT_EQ(encode_header_word("Zoë"), "=?UTF-8?B?Wm/Dqw==?=");
  // Long values become several words, none splitting a UTF-8 sequence.
  const std::string long_name(30, 'a');
  const auto words = encode_header_word(long_name + "ëëëëëëëëëëëëëëëë");
  EXPECT_EQ(words.find("=?UTF-8?B?"), 0u);
  EXPECT_NE(words.find(" =?UTF-8?B?"), std::string::npos);
  EXPECT_EQ(connectors::notify::message_id("new_lead|sales team|0191", "leads@partner.example"),
            "<new_lead.sales%20team.0191@partner.example>");
}

TEST(Chat, TeamsCardAndSlackBlocksCarryTheFactsEscaped) {
  NotifyConfig c = config("[{name: admins}]");
  auto lead = contact_me("Åsa <i>");
  const auto doc = lead_document(c, c.rules[0], {lead, received(lead)}, lead.received_at_ms);
  rapidjson::Document teams;
  teams.Parse(connectors::notify::teams_card("new_lead", doc, "New lead: Åsa").c_str());
  ASSERT_TRUE(teams.IsObject());
  const auto& content = teams["attachments"][0]["content"];
  EXPECT_STREQ(content["type"].GetString(), "AdaptiveCard");
  EXPECT_STREQ(content["body"][1]["facts"][0]["value"].GetString(), "Åsa <i>");
  EXPECT_STREQ(content["actions"][0]["url"].GetString(),
               ("https://leads.example.com/console/leads/" + lead.lead_id).c_str());
  rapidjson::Document slack;
  slack.Parse(connectors::notify::slack_message("new_lead", doc, "New lead: Åsa").c_str());
  ASSERT_TRUE(slack.IsObject());
  EXPECT_STREQ(slack["blocks"][1]["fields"][0]["text"].GetString(), "*Name*\nÅsa &lt;i&gt;");
  EXPECT_TRUE(connectors::notify::teams_card("new_lead", "[]", "x").empty());
}

}  // namespace
}  // namespace leadrelay::notify
