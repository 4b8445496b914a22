#include "daemon/lifecycle/transitions.hpp"

#include "daemon/util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace leadrelay::lifecycle {
namespace {
using model::Status;

constexpr std::size_t kMaxText = 200;
constexpr std::size_t kMaxNotes = 4000;
constexpr std::size_t kMaxTeam = 20;
constexpr double kMaxDealValue = 1e15;

bool blank(std::string_view s) { return util::trim(s).empty(); }

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  const int year = std::stoi(std::string(s.substr(0, 4)));
  const int month = std::stoi(std::string(s.substr(5, 2)));
  const int day = std::stoi(std::string(s.substr(8, 2)));
  if (year < 2000 || month < 1 || month > 12 || day < 1) return false;
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

// Which fields each action takes, and which of them it needs.
struct FieldRule {
  bool deal = false;           // deal_name, deal_value, currency, close_date, crm_id, campaign_id, team
  bool reason = false;
  bool notes = false;
  bool deal_value_only = false;  // win: deal_value (and notes), nothing else of the deal
};
FieldRule rule_for(Action a) {
  switch (a) {
    case Action::Accept:
    case Action::Update: return {true, false, true, false};
    case Action::Decline:
    case Action::Lose: return {false, true, true, false};
    case Action::Win: return {false, false, true, true};
    default: return {};
  }
}

ChangeResult invalid(std::string field, std::string problem) {
  ChangeResult r;
  r.kind = ChangeResult::Kind::Invalid;
  r.field = std::move(field);
  r.problem = std::move(problem);
  return r;
}

ChangeResult conflict(const model::Lifecycle& before) {
  ChangeResult r;
  r.kind = ChangeResult::Kind::Conflict;
  r.after = before;
  return r;
}

// Checks the fields present in `q` against `rule`; an Invalid result, or nullopt when all are fine.
std::optional<ChangeResult> check_fields(const ChangeRequest& q, const FieldRule& rule, std::string_view action) {
  const auto not_here = [&](const char* field) {
    return invalid(field, std::string("is not a field of ") + std::string(action));
  };
  const bool deal_fields = q.deal_name || q.currency || q.close_date || q.crm_id || q.campaign_id || q.team;
  if (!rule.deal && deal_fields) {
    return not_here(q.deal_name ? "deal_name" : q.currency ? "currency" : q.close_date ? "close_date"
                    : q.crm_id ? "crm_id" : q.campaign_id ? "campaign_id" : "team");
  }
  if (!rule.deal && !rule.deal_value_only && q.deal_value) return not_here("deal_value");
  if (!rule.reason && q.reason) return not_here("reason");
  if (!rule.notes && q.notes) return not_here("notes");
  if (q.deal_name && (blank(*q.deal_name) || q.deal_name->size() > kMaxText)) {
    return invalid("deal_name", "must be 1 to 200 characters");
  }
  if (q.deal_value && (!std::isfinite(*q.deal_value) || *q.deal_value < 0 || *q.deal_value > kMaxDealValue)) {
    return invalid("deal_value", "must be a number from 0 to 1e15");
  }
  if (q.currency && !model::is_currency_code(*q.currency)) {
    return invalid("currency", "must be an ISO 4217 code such as USD or EUR");
  }
  if (q.close_date && !valid_date(*q.close_date)) {
    return invalid("close_date", "must be a date as YYYY-MM-DD (UTC)");
  }
  for (const auto* f : {&q.crm_id, &q.campaign_id}) {
    if (*f && (*f)->size() > kMaxText) return invalid(f == &q.crm_id ? "crm_id" : "campaign_id", "at most 200 characters");
  }
  if (q.notes && q.notes->size() > kMaxNotes) return invalid("notes", "at most 4000 characters");
  if (q.team) {
    if (q.team->size() > kMaxTeam) return invalid("team", "at most 20 contacts");
    for (const auto& t : *q.team) {
      if (t.empty() || t.size() > 320 || t.find('@') == std::string::npos) {
        return invalid("team", "each entry must be an e-mail address");
      }
    }
  }
  if (q.reason && close_reason(*q.reason).empty()) {
    return invalid("reason", "must be one of the reasons 1-8 (see GET /api/v1/reasons), e.g. \"Customer didn't respond\"");
  }
  return std::nullopt;
}

// Copies the deal fields present in `q` into `deal`.
void merge_deal(const ChangeRequest& q, model::Deal& deal) {
  if (q.deal_name) deal.name = *q.deal_name;
  if (q.deal_value) deal.value = *q.deal_value;
  if (q.currency) deal.currency = *q.currency;
  if (q.close_date) deal.close_date = *q.close_date;
  if (q.crm_id) deal.crm_id = *q.crm_id;
  if (q.campaign_id) deal.campaign_id = *q.campaign_id;
  if (q.team) deal.team = *q.team;
}

// The names of the fields that differ, in a stable order.
std::vector<std::string> differences(const model::Lifecycle& a, const model::Lifecycle& b) {
  std::vector<std::string> out;
  if (a.status != b.status) out.emplace_back("status");
  if (a.deal.name != b.deal.name) out.emplace_back("deal_name");
  if (a.deal.value != b.deal.value) out.emplace_back("deal_value");
  if (a.deal.currency != b.deal.currency) out.emplace_back("currency");
  if (a.deal.close_date != b.deal.close_date) out.emplace_back("close_date");
  if (a.deal.crm_id != b.deal.crm_id) out.emplace_back("crm_id");
  if (a.deal.campaign_id != b.deal.campaign_id) out.emplace_back("campaign_id");
  if (a.deal.team != b.deal.team) out.emplace_back("team");
  if (a.reason != b.reason) out.emplace_back("reason");
  if (a.notes != b.notes) out.emplace_back("notes");
  if (a.favorite != b.favorite) out.emplace_back("favorite");
  return out;
}

}  // namespace

std::string_view to_string(Action a) {
  switch (a) {
    case Action::Accept: return "accept";
    case Action::Decline: return "decline";
    case Action::Win: return "win";
    case Action::Lose: return "lose";
    case Action::Update: return "update";
    case Action::Expire: return "expire";
    case Action::Favorite: return "favorite";
    case Action::Unfavorite: return "unfavorite";
    case Action::Sync: return "sync";
    case Action::Erase: return "erase";
  }
  return "?";
}

std::vector<Action> allowed_actions(Status status) {
  switch (status) {
    case Status::Received: return {Action::Accept, Action::Decline};
    case Status::Accepted: return {Action::Update, Action::Win, Action::Lose};
    default: return {};
  }
}

bool needs_action(const model::Lead& lead) {
  // Partner Center's validation leads and do-not-contact notices are nobody to answer.
  if (lead.action.do_not_contact || lead.test_lead) return false;
  return lead.action.partner_action_required || lead.lead_type == model::LeadType::Profile ||
         lead.classification != model::Classification::CustomerInquiry;
}

namespace {
// A lead status and Partner Center's status/substatus for it: one table for both directions.
struct ReferralStatus {
  Status status;
  std::string_view pc_status, pc_substatus;
};
constexpr ReferralStatus kReferralStatuses[] = {
    {Status::Received, "New", "Received"}, {Status::Accepted, "Active", "Accepted"},
    {Status::Won, "Closed", "Won"},        {Status::Lost, "Closed", "Lost"},
    {Status::Declined, "Closed", "Declined"}, {Status::Expired, "Closed", "Expired"},
};
}  // namespace

std::optional<Status> referral_status(std::string_view status, std::string_view substatus) {
  // New/Pending is Received too; a status without its substatus is read as its usual one.
  if (util::iequals(status, "New") && (util::iequals(substatus, "Pending") || substatus.empty())) {
    return Status::Received;
  }
  if (util::iequals(status, "Active") && substatus.empty()) return Status::Accepted;
  for (const auto& s : kReferralStatuses) {
    if (util::iequals(status, s.pc_status) && util::iequals(substatus, s.pc_substatus)) return s.status;
  }
  return std::nullopt;
}

std::pair<std::string_view, std::string_view> partner_center_status(Status status) {
  for (const auto& s : kReferralStatuses) {
    if (s.status == status) return {s.pc_status, s.pc_substatus};
  }
  return {};
}

ChangeRequest referral_sync(const model::Lead& lead) {
  const auto& r = lead.referral;
  ChangeRequest q;
  q.action = Action::Sync;
  q.to_status = referral_status(r.status, r.substatus);
  // The partner's deal, notes and reason once answered; while Received only the customer's estimate.
  const bool answered = q.to_status && *q.to_status != Status::Received;
  if (!r.name.empty() && answered) q.deal_name = r.name;
  if (r.deal_value) q.deal_value = *r.deal_value;
  if (const auto code = util::to_upper(r.currency); model::is_currency_code(code)) q.currency = code;
  if (!r.closing_date.empty()) q.close_date = r.closing_date;
  if (!r.external_reference_id.empty()) q.crm_id = r.external_reference_id;
  if (!lead.description.empty() && answered) q.notes = lead.description;
  if (!r.status_reason.empty() && q.to_status && (*q.to_status == Status::Declined || *q.to_status == Status::Lost)) {
    const auto label = close_reason(r.status_reason);
    q.reason = label.empty() ? r.status_reason : label;
  }
  return q;
}

model::Lifecycle initial(const model::Lead& lead, const Windows& windows) {
  model::Lifecycle l;
  l.received_at_ms = lead.received_at_ms;
  if (needs_action(lead)) {
    l.status = Status::Received;
    l.expires_at_ms = lead.received_at_ms + windows.response_window.count();
  }
  if (lead.customer_requested_contact) l.hot_until_ms = lead.received_at_ms + windows.hot_window.count();
  if (!lead.referral.id.empty()) {
    // A referral starts where Partner Center has it, with its deal: Partner Center's word (the Sync a later update
    // brings) applied to the lead as it arrives. A status leadrelay does not know keeps the lead's own.
    auto sync = referral_sync(lead);
    if (sync.to_status) {
      l.status = Status::Received;
      l.expires_at_ms = lead.received_at_ms + windows.response_window.count();
    } else {
      sync.to_status = l.status;
    }
    if (auto r = apply(l, sync, lead.received_at_ms); r.kind == ChangeResult::Kind::Applied) {
      l = std::move(r.after);
      l.version = 1;
    }
  }
  return l;
}

bool overdue(const model::Lifecycle& l, std::int64_t now_ms) {
  return l.status == Status::Received && l.expires_at_ms > 0 && now_ms >= l.expires_at_ms;
}

std::string close_reason(std::string_view given) {
  std::size_t n = 0;
  if (given.size() == 1 && given[0] >= '1' && given[0] <= '8') n = static_cast<std::size_t>(given[0] - '0');
  if (n > 0) return std::string(model::kCloseReasons[n - 1]);
  for (const auto label : model::kCloseReasons) {
    if (util::iequals(label, given)) return std::string(label);
  }
  return {};
}

ChangeResult apply(const model::Lifecycle& before, const ChangeRequest& q, std::int64_t now_ms) {
  model::Lifecycle after = before;
  switch (q.action) {
    case Action::Sync: {
      if (!q.to_status) return conflict(before);
      const auto to = *q.to_status;
      if (to != before.status && (model::is_final(before.status) || before.status == Status::Informational ||
                                  to == Status::Received || to == Status::Informational)) {
        return conflict(before);
      }
      if (to == before.status && model::is_final(before.status)) {
        // Closed on both sides: nothing more may change.
        break;
      }
      merge_deal(q, after.deal);
      if (q.notes) after.notes = *q.notes;
      if (q.reason) after.reason = *q.reason;
      if (to != before.status) {
        after.status = to;
        after.expires_at_ms = 0;
        if (to == Status::Accepted) after.accepted_at_ms = now_ms;
        if (model::is_final(to)) after.closed_at_ms = now_ms;
      }
      break;
    }
    case Action::Favorite:
    case Action::Unfavorite:
      after.favorite = q.action == Action::Favorite;
      break;
    case Action::Expire:
      if (!overdue(before, now_ms)) return conflict(before);
      after.status = Status::Expired;
      after.expires_at_ms = 0;
      after.closed_at_ms = now_ms;
      break;
    default: {
      const auto allowed = allowed_actions(before.status);
      if (std::find(allowed.begin(), allowed.end(), q.action) == allowed.end()) return conflict(before);
      // A Received lead past its deadline is Expired, even if the expiry worker has not come round yet.
      if (overdue(before, now_ms)) return conflict(before);
      const auto action = to_string(q.action);
      if (auto bad = check_fields(q, rule_for(q.action), action)) return std::move(*bad);
      switch (q.action) {
        case Action::Accept:
          for (const auto& [present, field] :
               {std::pair{q.deal_name.has_value(), "deal_name"}, {q.deal_value.has_value(), "deal_value"},
                {q.currency.has_value(), "currency"}, {q.close_date.has_value(), "close_date"},
                {q.notes.has_value() && !blank(*q.notes), "notes"}}) {
            if (!present) return invalid(field, "is required to accept a lead");
          }
          merge_deal(q, after.deal);
          after.notes = *q.notes;
          after.status = Status::Accepted;
          after.accepted_at_ms = now_ms;
          after.expires_at_ms = 0;
          break;
        case Action::Update:
          if (!q.deal_name && !q.deal_value && !q.currency && !q.close_date && !q.crm_id && !q.campaign_id &&
              !q.team && !q.notes) {
            return invalid("body", "names no field to change; deal fields: deal_name, deal_value, currency, "
                                   "close_date, crm_id, campaign_id, team, notes");
          }
          merge_deal(q, after.deal);
          if (q.notes) after.notes = *q.notes;
          break;
        case Action::Decline:
        case Action::Lose:
          if (!q.reason) return invalid("reason", std::string("is required to ") + std::string(action) + " a lead");
          after.reason = close_reason(*q.reason);
          if (q.notes) after.notes = *q.notes;
          after.status = q.action == Action::Decline ? Status::Declined : Status::Lost;
          after.expires_at_ms = 0;
          after.closed_at_ms = now_ms;
          break;
        case Action::Win:
          if (q.deal_value) after.deal.value = *q.deal_value;
          if (q.notes) after.notes = *q.notes;
          after.status = Status::Won;
          after.closed_at_ms = now_ms;
          break;
        default: break;
      }
    }
  }
  ChangeResult r;
  r.changed = differences(before, after);
  if (r.changed.empty()) {
    r.kind = ChangeResult::Kind::Unchanged;
    r.after = before;
    return r;
  }
  after.version = before.version + 1;
  r.after = std::move(after);
  return r;
}

}  // namespace leadrelay::lifecycle
