#pragma once
// Contact validation as one immutable value built from the config (lists loaded, rules parsed), swapped whole on
// reload. validate() is the pipeline's validate stage: email syntax → lists → the DNS answer the caller looked
// up → verdict; phone → verdict; then the lead's quality from the configured rules. No I/O.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/model/lead.hpp"
#include "daemon/validate/domain_lists.hpp"
#include "daemon/validate/mail_domain.hpp"
#include "daemon/validate/validation_config.hpp"

namespace leadrelay::validate {

// One contact, as `leadrelay validate` reads it or a lead carries it.
struct Contact {
  std::string email;
  std::string phone;
  std::string country;  // ISO 3166-1 alpha-2, the phone's default region
  std::string first_name;
  std::string last_name;
  std::string company;
  bool test_lead = false;
};

struct Verdicts {
  model::EmailCheck email;
  model::PhoneCheck phone;
  std::string quality;
  std::vector<std::string> quality_reasons;
};

// What syntax and the lists say of one email, before any DNS answer: a verdict they settle (invalid, spam, absent),
// or the domain whose answer decides it. Worked out once per lead: the pipeline needs the domain before it looks the
// batch's domains up, and the verdict after.
struct EmailFacts {
  std::string email;        // normalize_email of what it was made from: a lead's email that differs is checked anew
  model::EmailCheck check;  // what syntax and the lists found (verdict Unknown until DNS, when `resolve` is set)
  std::string resolve;      // the domain whose DNS answer decides the verdict (A-label); empty: settled without DNS
};

class Validator {
 public:
  // Loads the lists the config names; problems are returned as (key, message) pairs, e.g. an unreadable file.
  static std::shared_ptr<const Validator> build(const ValidationConfig& config,
                                                std::vector<std::pair<std::string, std::string>>& errors);
  // Built-in lists and default rules.
  static std::shared_ptr<const Validator> defaults();

  // The domain whose DNS answer decides the email verdict (A-label), or empty when syntax or lists decide it.
  std::string domain_to_resolve(std::string_view email) const;
  // Syntax and lists of `email` (the first half of the email check; domain_to_resolve is its `resolve`).
  EmailFacts email_facts(std::string_view email) const;

  // `dns`: answers by domain, or null when DNS is off. `email`: email_facts of the contact's email, when the caller
  // has them already (null, or made from another email: worked out here).
  Verdicts check(const Contact& contact, const MailDomains* dns, const EmailFacts* email = nullptr) const;
  // The pipeline stage: fills the lead's email_check, phone_check, quality and quality_reasons.
  void validate(model::Lead& lead, const MailDomains* dns, const EmailFacts* email = nullptr) const;

  const ValidationConfig& config() const { return config_; }
  std::size_t disposable_count() const { return disposable_.size(); }

 private:
  model::EmailCheck check_email(std::string_view email, const MailDomains* dns, const EmailFacts* known) const;
  bool placeholder(std::string_view value) const;

  ValidationConfig config_;
  NameSet disposable_;
  NameSet spam_;
  NameSet allow_;
  NameSet free_mail_;
  NameSet roles_;
  NameSet placeholders_;
  std::vector<std::string> low_when_;
};

// The email as leads are compared and looked up: trimmed, ASCII lower case.
std::string normalize_email(std::string_view email);

}  // namespace leadrelay::validate
