#include "daemon/lifecycle/transitions.hpp"

#include <gtest/gtest.h>

#include "daemon/lifecycle/event.hpp"

namespace leadrelay::lifecycle {
namespace {
using model::Status;
using Kind = ChangeResult::Kind;

constexpr std::int64_t kDay = 86400000;
constexpr std::int64_t kT0 = 1764547200000;  // 2025-12-01T00:00:00Z

ChangeRequest valid_request(Action a) {
  ChangeRequest q;
  q.action = a;
  switch (a) {
    case Action::Accept:
      q.deal_name = "Contoso analytics rollout";
      q.deal_value = 25000;
      q.currency = "USD";
      q.close_date = "2026-03-31";
      q.notes = "Call booked";
      break;
    case Action::Decline:
    case Action::Lose: q.reason = "2"; break;
    case Action::Update: q.deal_value = 30000; break;
    default: break;
  }
  return q;
}

model::Lifecycle in_status(Status s) {
  model::Lifecycle l;
  l.status = s;
  l.received_at_ms = kT0;
  l.version = 3;
  if (s == Status::Received) l.expires_at_ms = kT0 + 14 * kDay;
  if (s == Status::Accepted) l.deal.name = "deal";
  return l;
}

// Every (status, action) pair a person can ask for: applied where the table allows it, 409 everywhere else.
TEST(Transitions, EveryPair) {
  const Status statuses[] = {Status::Received, Status::Accepted,      Status::Declined, Status::Won,
                             Status::Lost,     Status::Expired,       Status::Informational};
  const Action actions[] = {Action::Accept, Action::Decline, Action::Win, Action::Lose, Action::Update};
  const auto expected_to = [](Status from, Action a) -> std::optional<Status> {
    if (from == Status::Received && a == Action::Accept) return Status::Accepted;
    if (from == Status::Received && a == Action::Decline) return Status::Declined;
    if (from == Status::Accepted && a == Action::Win) return Status::Won;
    if (from == Status::Accepted && a == Action::Lose) return Status::Lost;
    if (from == Status::Accepted && a == Action::Update) return Status::Accepted;
    return std::nullopt;
  };
  for (auto from : statuses) {
    for (auto a : actions) {
      SCOPED_TRACE(std::string(model::to_string(from)) + " " + std::string(to_string(a)));
      const auto before = in_status(from);
      const auto r = apply(before, valid_request(a), kT0 + kDay);
      if (const auto to = expected_to(from, a)) {
        ASSERT_EQ(r.kind, Kind::Applied) << r.field << " " << r.problem;
        EXPECT_EQ(r.after.status, *to);
        EXPECT_EQ(r.after.version, before.version + 1);
      } else {
        EXPECT_EQ(r.kind, Kind::Conflict);
        EXPECT_EQ(r.after, before);
      }
    }
  }
}

// Partner Center's word on a referral: any move forward from Received or Accepted, never out of a final status,
// never back to Received; the same status again changes only the deal fields it carries.
TEST(Transitions, SyncEveryPair) {
  const Status statuses[] = {Status::Received, Status::Accepted,      Status::Declined, Status::Won,
                             Status::Lost,     Status::Expired,       Status::Informational};
  for (auto from : statuses) {
    for (auto to : statuses) {
      SCOPED_TRACE(std::string(model::to_string(from)) + " -> " + std::string(model::to_string(to)));
      const auto before = in_status(from);
      ChangeRequest q;
      q.action = Action::Sync;
      q.to_status = to;
      const auto r = apply(before, q, kT0 + kDay);
      const bool moves = from != to && (from == Status::Received || from == Status::Accepted) &&
                         to != Status::Received && to != Status::Informational;
      if (moves) {
        ASSERT_EQ(r.kind, Kind::Applied);
        EXPECT_EQ(r.after.status, to);
        EXPECT_EQ(r.after.expires_at_ms, 0);
        if (model::is_final(to)) {
          EXPECT_EQ(r.after.closed_at_ms, kT0 + kDay);
        }
      } else if (from == to) {
        EXPECT_EQ(r.kind, Kind::Unchanged);
      } else {
        EXPECT_EQ(r.kind, Kind::Conflict);
        EXPECT_EQ(r.after, before);
      }
    }
  }
  ChangeRequest deal;
  deal.action = Action::Sync;
  deal.to_status = Status::Accepted;
  deal.deal_value = 99;
  const auto r = apply(in_status(Status::Accepted), deal, kT0 + kDay);
  ASSERT_EQ(r.kind, Kind::Applied);
  EXPECT_EQ(r.changed, std::vector<std::string>{"deal_value"});
}

TEST(Transitions, AllowedActionsMatchTheTable) {
  EXPECT_EQ(allowed_actions(Status::Received), (std::vector{Action::Accept, Action::Decline}));
  EXPECT_EQ(allowed_actions(Status::Accepted), (std::vector{Action::Update, Action::Win, Action::Lose}));
  for (auto s : {Status::Declined, Status::Won, Status::Lost, Status::Expired, Status::Informational}) {
    EXPECT_TRUE(allowed_actions(s).empty());
    EXPECT_EQ(model::is_final(s), s != Status::Informational);
  }
}

TEST(Transitions, AcceptNeedsEveryDealField) {
  for (const char* missing : {"deal_name", "deal_value", "currency", "close_date", "notes"}) {
    auto q = valid_request(Action::Accept);
    if (std::string(missing) == "deal_name") q.deal_name.reset();
    if (std::string(missing) == "deal_value") q.deal_value.reset();
    if (std::string(missing) == "currency") q.currency.reset();
    if (std::string(missing) == "close_date") q.close_date.reset();
    if (std::string(missing) == "notes") q.notes = "  ";
    const auto r = apply(in_status(Status::Received), q, kT0);
    EXPECT_EQ(r.kind, Kind::Invalid) << missing;
    EXPECT_EQ(r.field, missing);
  }
  const auto r = apply(in_status(Status::Received), valid_request(Action::Accept), kT0 + 5);
  ASSERT_EQ(r.kind, Kind::Applied);
  EXPECT_EQ(r.after.accepted_at_ms, kT0 + 5);
  EXPECT_EQ(r.after.expires_at_ms, 0);
  EXPECT_EQ(r.after.deal.currency, "USD");
  EXPECT_EQ(r.changed, (std::vector<std::string>{"status", "deal_name", "deal_value", "currency", "close_date",
                                                 "notes"}));
}

TEST(Transitions, FieldsAreChecked) {
  const auto bad = [](auto mutate) {
    auto q = valid_request(Action::Accept);
    mutate(q);
    return apply(in_status(Status::Received), q, kT0);
  };
  EXPECT_EQ(bad([](ChangeRequest& q) { q.currency = "usd"; }).field, "currency");
  EXPECT_EQ(bad([](ChangeRequest& q) { q.currency = "XYZ"; }).field, "currency");
  EXPECT_EQ(bad([](ChangeRequest& q) { q.close_date = "2026-02-30"; }).field, "close_date");
  EXPECT_EQ(bad([](ChangeRequest& q) { q.close_date = "31.03.2026"; }).field, "close_date");
  EXPECT_EQ(bad([](ChangeRequest& q) { q.deal_value = -1; }).field, "deal_value");
  EXPECT_EQ(bad([](ChangeRequest& q) { q.deal_value = 1e16; }).field, "deal_value");
  EXPECT_EQ(bad([](ChangeRequest& q) { q.team = std::vector<std::string>{"not an address"}; }).field, "team");
  EXPECT_EQ(bad([](ChangeRequest& q) { q.reason = "2"; }).field, "reason");  // not a field of accept
  EXPECT_EQ(bad([](ChangeRequest& q) { q.close_date = "2028-02-29"; }).kind, Kind::Applied);  // a leap day
  auto decline = valid_request(Action::Decline);
  decline.reason = "because";
  EXPECT_EQ(apply(in_status(Status::Received), decline, kT0).field, "reason");
  decline.reason.reset();
  EXPECT_EQ(apply(in_status(Status::Received), decline, kT0).field, "reason");
  auto win = valid_request(Action::Win);
  win.currency = "EUR";
  EXPECT_EQ(apply(in_status(Status::Accepted), win, kT0).field, "currency");
  ChangeRequest empty_update;
  empty_update.action = Action::Update;
  EXPECT_EQ(apply(in_status(Status::Accepted), empty_update, kT0).kind, Kind::Invalid);
}

TEST(Transitions, CloseReasonsByNumberOrLabel) {
  EXPECT_EQ(close_reason("1"), "Project budget isn't adequate");
  EXPECT_EQ(close_reason("8"), "Others");
  EXPECT_EQ(close_reason("customer DIDN'T respond"), "Customer didn't respond");
  EXPECT_EQ(close_reason("0"), "");
  EXPECT_EQ(close_reason("9"), "");
  EXPECT_EQ(close_reason(""), "");
}

TEST(Transitions, ExpiryAtTheBoundary) {
  const auto l = in_status(Status::Received);
  EXPECT_FALSE(overdue(l, l.expires_at_ms - 1));
  EXPECT_TRUE(overdue(l, l.expires_at_ms));
  ChangeRequest expire;
  expire.action = Action::Expire;
  EXPECT_EQ(apply(l, expire, l.expires_at_ms - 1).kind, Kind::Conflict);
  const auto r = apply(l, expire, l.expires_at_ms);
  ASSERT_EQ(r.kind, Kind::Applied);
  EXPECT_EQ(r.after.status, Status::Expired);
  EXPECT_EQ(r.after.closed_at_ms, l.expires_at_ms);
  // Past the deadline a person can no longer answer, even before the expiry worker came round.
  EXPECT_EQ(apply(l, valid_request(Action::Accept), l.expires_at_ms).kind, Kind::Conflict);
  EXPECT_EQ(apply(l, valid_request(Action::Accept), l.expires_at_ms - 1).kind, Kind::Applied);
  for (auto s : {Status::Accepted, Status::Declined, Status::Informational}) {
    EXPECT_EQ(apply(in_status(s), expire, kT0 + 100 * kDay).kind, Kind::Conflict);
  }
}

TEST(Transitions, InitialStatusAndHotWindow) {
  Windows w;
  model::Lead lead;
  lead.received_at_ms = kT0;
  lead.action.call_to_action = model::CallToAction::ContactMe;
  lead.action.partner_action_required = true;
  lead.customer_requested_contact = true;
  auto l = initial(lead, w);
  EXPECT_EQ(l.status, Status::Received);
  EXPECT_EQ(l.expires_at_ms, kT0 + 14 * kDay);
  EXPECT_EQ(l.hot_until_ms, kT0 + 3 * kDay);
  EXPECT_TRUE(model::is_hot(l, kT0 + 3 * kDay - 1));
  EXPECT_FALSE(model::is_hot(l, kT0 + 3 * kDay));

  model::Lead trial;  // Get it now / Free trial: informational, never hot
  trial.received_at_ms = kT0;
  trial.action.call_to_action = model::CallToAction::GetItNowOrFreeTrial;
  l = initial(trial, w);
  EXPECT_EQ(l.status, Status::Informational);
  EXPECT_EQ(l.expires_at_ms, 0);
  EXPECT_FALSE(model::is_hot(l, kT0));

  trial.lead_type = model::LeadType::Profile;  // profile leads need an answer
  EXPECT_EQ(initial(trial, w).status, Status::Received);
  trial.lead_type = model::LeadType::Offer;
  trial.classification = model::Classification::SalesQualified;  // so do qualified ones
  EXPECT_EQ(initial(trial, w).status, Status::Received);
  trial.action.do_not_contact = true;  // never a do-not-contact notice
  EXPECT_EQ(initial(trial, w).status, Status::Informational);
  lead.test_lead = true;  // nor Partner Center's validation lead
  EXPECT_EQ(initial(lead, w).status, Status::Informational);
}

TEST(Transitions, FavoriteBumpsTheVersionOnce) {
  ChangeRequest fav;
  fav.action = Action::Favorite;
  const auto r = apply(in_status(Status::Won), fav, kT0);
  ASSERT_EQ(r.kind, Kind::Applied);
  EXPECT_TRUE(r.after.favorite);
  EXPECT_EQ(r.changed, std::vector<std::string>{"favorite"});
  EXPECT_EQ(apply(r.after, fav, kT0).kind, Kind::Unchanged);
}

TEST(Events, NoContactDataAndTheChangedFields) {
  const auto before = in_status(Status::Received);
  const auto r = apply(before, valid_request(Action::Accept), kT0 + kDay);
  const auto json = event_json({"lead-1", Action::Accept, &before, &r.after, &r.changed, "crm-team", kT0 + kDay});
  EXPECT_NE(json.find(R"("schema":"lead-event.v1")"), std::string::npos);
  EXPECT_NE(json.find(R"("from_status":"Received","to_status":"Accepted")"), std::string::npos);
  EXPECT_NE(json.find(R"("deal_value":25000.0)"), std::string::npos);
  EXPECT_NE(json.find(R"("actor":"crm-team")"), std::string::npos);
  EXPECT_NE(json.find(R"("event_id":"lead-1/4")"), std::string::npos);
}

}  // namespace
}  // namespace leadrelay::lifecycle
