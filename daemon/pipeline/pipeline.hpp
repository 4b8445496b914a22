#pragma once
// The pipeline: an ordered chain of plain synchronous stages over a Lead (normalize → dedup → validate → route).
// No I/O, no clock, no globals: tests and fuzzers call it directly. It runs after the journal commit, so it
// never delays a sender's 202.
#include <string>
#include <vector>

#include "daemon/model/lead.hpp"
#include "daemon/routing/router.hpp"
#include "daemon/validate/validator.hpp"

namespace leadrelay::pipeline {

struct Outcome {
  enum class Kind { Routed, Dropped, Unrouted };
  Kind kind = Kind::Unrouted;
  std::vector<routing::Destination> destinations;
  std::vector<std::string> matched_rules;
  std::string drop_rule;
  std::string drop_reason;
};

enum class StageResult { Continue, Stop };

// What the store knows of earlier leads of the same person for the same offer, looked up by the caller (the
// pipeline does no I/O): null when this is the first within the window.
struct PriorLeads {
  std::string first_lead_id;
  int occurrences = 0;
  std::vector<std::string> actions;
};

struct Context {
  const routing::RouteTable& routes;
  const PriorLeads* prior = nullptr;
  const validate::Validator* validator = nullptr;  // null: built-in lists and default rules
  const validate::MailDomains* mail = nullptr;     // DNS answers for the email domain; null: DNS off
  const validate::EmailFacts* email = nullptr;     // the validator's email_facts of this lead, if the caller has them
  Outcome outcome;
};

using Stage = StageResult (*)(model::Lead& lead, Context& context);

// Trims contact fields and case-folds the email address; country and test-lead flags were set by the format.
StageResult normalize(model::Lead& lead, Context& context);
// Links a later lead of the same person and offer to the first (from context.prior).
StageResult dedup(model::Lead& lead, Context& context);

// action_history holds at most this many codes. Past it, the oldest are let go except the first occurrence's and
// one Contact me (which keeps making the lead one the partner must act on); `occurrence` still counts them all.
// Unbounded, a sender repeating one person thousands of times made every later lead, its row in the store and its
// Kafka message grow with each repeat (12 KiB a lead after 2,000).
inline constexpr std::size_t kMaxActionHistory = 32;
// Email, phone and spam-domain verdicts and the lead's quality (validate::Validator).
StageResult validate(model::Lead& lead, Context& context);
StageResult route(model::Lead& lead, Context& context);

Outcome run(const routing::RouteTable& routes, model::Lead& lead, const PriorLeads* prior = nullptr,
            const validate::Validator* validator = nullptr, const validate::MailDomains* mail = nullptr,
            const validate::EmailFacts* email = nullptr);

// The person-and-offer key: normalized email (else phone digits) + "|" + offer id, lower-cased; empty when the
// lead names neither email nor phone (nobody to recognise).
std::string person_key(const model::Lead& lead);

// The Kafka message key: the normalized email, else the phone (digits and a leading '+'), else the lead id, so
// all of one person's leads land on one partition in order.
std::string message_key(const model::Lead& lead);

}  // namespace leadrelay::pipeline
