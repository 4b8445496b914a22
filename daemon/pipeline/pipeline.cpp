#include "daemon/pipeline/pipeline.hpp"

#include <algorithm>

#include "daemon/util/strings.hpp"

namespace leadrelay::pipeline {

StageResult normalize(model::Lead& lead, Context&) {
  auto& c = lead.contact;
  // Mailbox names are case-insensitive in practice (RFC 5321 allows otherwise, no provider does it), and one
  // spelling per person is what de-duplication and the Kafka key need.
  c.email = util::to_lower(util::trim(c.email));
  lead.contactable = (!c.email.empty() || !c.phone.empty()) && lead.referral.consent_to_contact;
  return StageResult::Continue;
}

namespace {
// Past kMaxActionHistory codes: the first, then the latest Contact me unless the first or one of the most recent is
// one, then the most recent.
void bound_action_history(std::vector<std::string>& history) {
  if (history.size() <= kMaxActionHistory) return;
  static constexpr const char* kContactMe[] = {"PLT"};
  const auto older = history.begin() + 1;
  const auto recent = history.end() - static_cast<std::ptrdiff_t>(kMaxActionHistory - 1);  // kept beside the first
  const bool contact_me_kept =
      history.front() == kContactMe[0] || std::find(recent, history.end(), kContactMe[0]) != history.end();
  if (const auto latest = std::find_end(older, recent, std::begin(kContactMe), std::end(kContactMe));
      !contact_me_kept && latest != recent) {
    *recent = std::move(*latest);  // in place of the oldest of the recent ones
  }
  history.erase(older, recent);
}
}  // namespace

StageResult dedup(model::Lead& lead, Context& context) {
  lead.action_history.clear();
  if (context.prior != nullptr) {
    lead.duplicate_of = context.prior->first_lead_id;
    lead.occurrence = context.prior->occurrences + 1;
    lead.action_history = context.prior->actions;
  }
  if (!lead.action.code.empty()) lead.action_history.push_back(lead.action.code);
  bound_action_history(lead.action_history);
  // A Contact me anywhere in the history means the customer asked to be contacted: the partner must act,
  // even when this occurrence is only a Get it now or a Test drive.
  if (std::find(lead.action_history.begin(), lead.action_history.end(), "PLT") != lead.action_history.end() &&
      !lead.action.do_not_contact) {
    lead.action.call_to_action = model::CallToAction::ContactMe;
    lead.action.partner_action_required = true;
  }
  return StageResult::Continue;
}

StageResult validate(model::Lead& lead, Context& context) {
  if (context.validator != nullptr) {
    context.validator->validate(lead, context.mail, context.email);
  } else {
    validate::Validator::defaults()->validate(lead, context.mail, context.email);
  }
  return StageResult::Continue;
}

StageResult route(model::Lead& lead, Context& context) {
  const auto decision = routing::route(context.routes, lead);
  auto& o = context.outcome;
  for (auto name : decision.matched_rules) o.matched_rules.emplace_back(name);
  if (decision.dropped) {
    o.kind = Outcome::Kind::Dropped;
    o.drop_rule = decision.drop_rule;
    o.drop_reason = decision.drop_reason;
    return StageResult::Stop;
  }
  for (const auto* d : decision.destinations) o.destinations.push_back(*d);
  o.kind = o.destinations.empty() ? Outcome::Kind::Unrouted : Outcome::Kind::Routed;
  return StageResult::Continue;
}

namespace {
constexpr Stage kStages[] = {&normalize, &dedup, &validate, &route};
}  // namespace

Outcome run(const routing::RouteTable& routes, model::Lead& lead, const PriorLeads* prior,
            const validate::Validator* validator, const validate::MailDomains* mail, const validate::EmailFacts* email) {
  Context context{routes, prior, validator, mail, email, {}};
  for (auto stage : kStages) {
    if (stage(lead, context) == StageResult::Stop) break;
  }
  return std::move(context.outcome);
}

namespace {
// The person: normalized email, else the phone's digits (and a leading '+'), else empty.
std::string person(const model::Lead& lead) {
  const auto email = util::to_lower(util::trim(lead.contact.email));
  if (!email.empty()) return email;
  std::string phone;
  for (char c : lead.contact.phone) {
    if ((c >= '0' && c <= '9') || (c == '+' && phone.empty())) phone += c;
  }
  return phone == "+" ? std::string() : phone;
}
}  // namespace

std::string message_key(const model::Lead& lead) {
  auto key = person(lead);
  return key.empty() ? lead.lead_id : key;
}

std::string person_key(const model::Lead& lead) {
  const auto who = person(lead);
  if (who.empty()) return {};
  return who + "|" + util::to_lower(lead.offer.id);
}

}  // namespace leadrelay::pipeline
