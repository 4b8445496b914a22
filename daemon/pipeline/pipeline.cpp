#include "daemon/pipeline/pipeline.hpp"

#include "daemon/util/strings.hpp"

namespace leadrelay::pipeline {

StageResult normalize(model::Lead& lead, Context&) {
  auto& c = lead.contact;
  // Mailbox names are case-insensitive in practice (RFC 5321 allows otherwise, no provider does it), and one
  // spelling per person is what de-duplication and the Kafka key need.
  c.email = util::to_lower(util::trim(c.email));
  lead.contactable = !c.email.empty() || !c.phone.empty();
  return StageResult::Continue;
}

StageResult dedup(model::Lead&, Context&) { return StageResult::Continue; }

StageResult validate(model::Lead&, Context&) { return StageResult::Continue; }

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

Outcome run(const routing::RouteTable& routes, model::Lead& lead) {
  Context context{routes, {}};
  for (auto stage : kStages) {
    if (stage(lead, context) == StageResult::Stop) break;
  }
  return std::move(context.outcome);
}

std::string message_key(const model::Lead& lead) {
  if (!lead.contact.email.empty()) return lead.contact.email;
  std::string phone;
  for (char c : lead.contact.phone) {
    if ((c >= '0' && c <= '9') || (c == '+' && phone.empty())) phone += c;
  }
  if (phone.size() > 1 || (phone.size() == 1 && phone != "+")) return phone;
  return lead.lead_id;
}

}  // namespace leadrelay::pipeline
