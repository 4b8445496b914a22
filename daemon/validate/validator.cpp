#include "daemon/validate/validator.hpp"

#include <algorithm>

#include "daemon/util/strings.hpp"
#include "daemon/validate/email.hpp"
#include "daemon/validate/phone.hpp"

namespace leadrelay::validate {
namespace {

bool in(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::string_view dns_reason(const MailDomainAnswer& a) {
  if (!a.reason.empty()) return a.reason;
  switch (a.status) {
    case MailStatus::NullMx: return "null_mx";
    case MailStatus::NoSuchDomain: return "no_such_domain";
    case MailStatus::NoMailHost: return "no_mail_host";
    default: return "dns_failure";
  }
}

void load(NameSet& set, const std::filesystem::path& file, std::string_view builtin, const char* key,
          std::vector<std::pair<std::string, std::string>>& errors) {
  if (file.empty()) {
    set.add_text(builtin);
    return;
  }
  std::string error;
  if (!set.add_file(file, error)) errors.emplace_back(key, error);
}

}  // namespace

std::string normalize_email(std::string_view email) { return util::to_lower(util::trim(email)); }

std::shared_ptr<const Validator> Validator::build(const ValidationConfig& config,
                                                  std::vector<std::pair<std::string, std::string>>& errors) {
  auto v = std::make_shared<Validator>();
  v->config_ = config;
  load(v->disposable_, config.disposable_list, builtin_disposable_domains(), "disposable_list", errors);
  load(v->free_mail_, config.free_mail_list, builtin_free_mail_domains(), "free_mail_list", errors);
  load(v->roles_, config.role_list, builtin_role_mailboxes(), "role_list", errors);
  for (const auto& f : config.spam_lists) {
    std::string error;
    if (!v->spam_.add_file(f, error)) errors.emplace_back("spam_lists", error);
  }
  for (const auto& d : config.spam_domains) v->spam_.add(d);
  for (const auto& d : config.allow_domains) v->allow_.add(d);
  for (const auto& p : config.quality.placeholder_names) v->placeholders_.add(util::to_lower(util::trim(p)));
  v->low_when_ = config.quality.low_when;
  return v;
}

std::shared_ptr<const Validator> Validator::defaults() {
  static const std::shared_ptr<const Validator> instance = [] {
    std::vector<std::pair<std::string, std::string>> errors;
    return build(default_validation_config(), errors);
  }();
  return instance;
}

EmailFacts Validator::email_facts(std::string_view raw) const {
  EmailFacts f;
  f.email = normalize_email(raw);
  auto& e = f.check;
  if (f.email.empty()) return f;  // absent: Unknown, no reasons
  const auto syntax = check_email_syntax(f.email);
  if (!syntax.ok) {
    e.verdict = "Invalid";
    e.reasons.emplace_back(syntax.reason);
    return f;
  }
  e.normalized = syntax.normalized();
  e.domain = syntax.registrable_domain;
  e.role_mailbox = roles_.contains(syntax.local);
  e.free_mail = free_mail_.matches_domain(syntax.domain, syntax.registrable_domain);
  if (!allow_.matches_domain(syntax.domain, syntax.registrable_domain)) {
    if (disposable_.matches_domain(syntax.domain, syntax.registrable_domain)) {
      e.verdict = "Spam";
      e.reasons.emplace_back("disposable_domain");
      return f;
    }
    if (spam_.matches_domain(syntax.domain, syntax.registrable_domain)) {
      e.verdict = "Spam";
      e.reasons.emplace_back("spam_domain");
      return f;
    }
  }
  f.resolve = syntax.domain;
  return f;
}

model::EmailCheck Validator::check_email(std::string_view raw, const MailDomains* dns, const EmailFacts* known) const {
  EmailFacts made;
  // known->email is normalize_email's (trimmed, ASCII lower case): the same comparison, without a copy.
  if (known == nullptr || !util::iequals(util::trim(raw), known->email)) {
    made = email_facts(raw);
    known = &made;
  }
  model::EmailCheck e = known->check;
  if (known->resolve.empty()) return e;  // settled by syntax or the lists
  if (dns == nullptr) {
    e.reasons.emplace_back("dns_off");
    return e;
  }
  const auto it = dns->find(known->resolve);
  if (it == dns->end()) {
    e.reasons.emplace_back("dns_failure");
    return e;
  }
  switch (it->second.status) {
    case MailStatus::Accepts: e.verdict = "Valid"; break;
    case MailStatus::NullMx:
    case MailStatus::NoSuchDomain:
    case MailStatus::NoMailHost:
      e.verdict = "Invalid";
      e.reasons.emplace_back(dns_reason(it->second));
      break;
    case MailStatus::Unknown: e.reasons.emplace_back(dns_reason(it->second)); break;
  }
  return e;
}

std::string Validator::domain_to_resolve(std::string_view raw) const { return email_facts(raw).resolve; }

bool Validator::placeholder(std::string_view value) const {
  const auto v = util::to_lower(util::trim(value));
  if (v.empty()) return false;
  if (placeholders_.contains(v)) return true;
  // One character repeated: "aaa", "xxxx", "...".
  return v.size() >= 3 && std::all_of(v.begin(), v.end(), [&v](char c) { return c == v.front(); });
}

Verdicts Validator::check(const Contact& contact, const MailDomains* dns, const EmailFacts* email) const {
  Verdicts out;
  out.email = check_email(contact.email, dns, email);

  const auto phone = check_phone(contact.phone, contact.country);
  out.phone.verdict = std::string(phone.verdict);
  out.phone.e164 = phone.e164;
  out.phone.extension = phone.extension;
  out.phone.type = std::string(phone.type);
  out.phone.region = phone.region;
  if (!phone.reason.empty()) out.phone.reasons.emplace_back(phone.reason);

  const auto flag = [&](std::string_view reason, bool applies) {
    if (applies && in(low_when_, reason)) out.quality_reasons.emplace_back(reason);
  };
  flag("email_invalid", out.email.verdict == "Invalid");
  flag("email_spam", out.email.verdict == "Spam");
  flag("email_unknown", out.email.verdict == "Unknown" && !contact.email.empty());
  flag("phone_invalid", out.phone.verdict == "Invalid");
  flag("no_contact", util::trim(contact.email).empty() && util::trim(contact.phone).empty());
  flag("test_lead", contact.test_lead);
  const auto full_name = std::string(util::trim(contact.first_name)) + " " + std::string(util::trim(contact.last_name));
  flag("placeholder_name", placeholder(contact.first_name) || placeholder(contact.last_name) ||
                               placeholder(full_name) || placeholder(contact.company));
  flag("phone_country_mismatch", out.phone.verdict == "Valid" && !contact.country.empty() &&
                                     calling_code(contact.country) != 0 &&
                                     calling_code(contact.country) != phone.country_code);
  flag("role_mailbox", out.email.role_mailbox);
  flag("free_mail", out.email.free_mail);
  out.quality = out.quality_reasons.empty() ? "High" : "Low";
  return out;
}

void Validator::validate(model::Lead& lead, const MailDomains* dns, const EmailFacts* email) const {
  const auto& c = lead.contact;
  auto v = check({c.email, c.phone, c.country, c.first_name, c.last_name, c.company, lead.test_lead}, dns, email);
  lead.email_check = std::move(v.email);
  lead.phone_check = std::move(v.phone);
  lead.quality = std::move(v.quality);
  lead.quality_reasons = std::move(v.quality_reasons);
}

}  // namespace leadrelay::validate
