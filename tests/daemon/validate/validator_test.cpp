// The validate stage's decisions: lists (disposable, spam, allow; matched on the domain and its parents down to
// the registrable domain), DNS answers to verdicts, and the lead-quality rules with their reasons.
#include "daemon/validate/validator.hpp"

#include <gtest/gtest.h>

#include "daemon/app/config.hpp"
#include "daemon/pipeline/pipeline.hpp"

namespace leadrelay::validate {
namespace {

std::shared_ptr<const Validator> with(const std::string& yaml) {
  const auto r = app::load_config_text(
      "state_dir: /tmp/x\nsources: [{name: a, path: /a, format: ms-marketplace, auth: {type: none}}]\n" + yaml,
      "test.yaml", "/tmp");
  EXPECT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.config ? r.config->validator : nullptr;
}

std::vector<std::string> errors_of(const std::string& yaml) {
  const auto r = app::load_config_text(
      "state_dir: /tmp/x\nsources: [{name: a, path: /a, format: ms-marketplace, auth: {type: none}}]\n" + yaml,
      "test.yaml", "/tmp");
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

Contact person(std::string email, std::string phone = "", std::string country = "") {
  Contact c;
  c.email = std::move(email);
  c.phone = std::move(phone);
  c.country = std::move(country);
  c.first_name = "Maria";
  c.last_name = "Garcia";
  c.company = "Fabrikam";
  return c;
}

TEST(Lists, DisposableDomainsAndTheirSubdomainsAreSpam) {
  const auto v = Validator::defaults();
  for (const auto* email : {"x@mailinator.com", "x@eu.mailinator.com", "X@MAILINATOR.COM", "x@guerrillamail.com"}) {
    SCOPED_TRACE(email);
    const auto r = v->check(person(email), nullptr);
    EXPECT_EQ(r.email.verdict, "Spam");
    EXPECT_EQ(r.email.reasons, std::vector<std::string>{"disposable_domain"});
    EXPECT_EQ(v->domain_to_resolve(email), "");  // settled without DNS
  }
  // A look-alike is not a parent: "fabrikammailinator.com" is its own registrable domain.
  EXPECT_EQ(v->check(person("x@fabrikammailinator.com"), nullptr).email.verdict, "Unknown");
}

// The pipeline works out an email's syntax and lists once (email_facts, for the DNS lookups of its batch) and hands
// them to the validate stage: every verdict must be the one the stage would reach alone, and facts made from
// another email must not be used.
TEST(Lists, EmailFactsMadeBeforeDnsGiveTheSameVerdicts) {
  const auto v = with("validation:\n  spam_domains: [badco.com]\n");
  ASSERT_TRUE(v);
  const MailDomains dns{{"accepts.com", {MailStatus::Accepts, {}}}, {"nullmx.com", {MailStatus::NullMx, "null_mx"}}};
  for (const auto* email : {"a@accepts.com", " A@Accepts.COM ", "a@nullmx.com", "a@unanswered.com", "a@badco.com",
                            "x@mailinator.com", "info@accepts.com", "a@gmail.com", "not an email", "a..b@accepts.com",
                            ""}) {
    SCOPED_TRACE(email);
    const auto facts = v->email_facts(email);
    EXPECT_EQ(facts.resolve, v->domain_to_resolve(email));
    for (const MailDomains* answers : {&dns, static_cast<const MailDomains*>(nullptr)}) {
      const auto alone = v->check(person(email), answers).email;
      const auto given = v->check(person(email), answers, &facts).email;
      EXPECT_EQ(given.verdict, alone.verdict);
      EXPECT_EQ(given.reasons, alone.reasons);
      EXPECT_EQ(given.normalized, alone.normalized);
      EXPECT_EQ(given.domain, alone.domain);
      EXPECT_EQ(given.role_mailbox, alone.role_mailbox);
      EXPECT_EQ(given.free_mail, alone.free_mail);
    }
  }
  // Facts of another address are not this one's: the check works it out itself.
  const auto spam = v->email_facts("a@badco.com");
  EXPECT_EQ(v->check(person("a@accepts.com"), &dns, &spam).email.verdict, "Valid");
  EXPECT_EQ(v->check(person("a@badco.com"), &dns, &spam).email.verdict, "Spam");
}

TEST(Lists, SpamAndAllowDomainsFromYaml) {
  const auto v = with("validation:\n  spam_domains: [spam.example.net, badco.com]\n  allow_domains: [mailinator.com]\n");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->check(person("a@badco.com"), nullptr).email.reasons, std::vector<std::string>{"spam_domain"});
  EXPECT_EQ(v->check(person("a@mx.badco.com"), nullptr).email.verdict, "Spam");
  EXPECT_EQ(v->check(person("a@goodco.com"), nullptr).email.verdict, "Unknown");
  // Allowed wins over the built-in disposable list.
  EXPECT_EQ(v->check(person("a@mailinator.com"), nullptr).email.verdict, "Unknown");
  EXPECT_EQ(v->domain_to_resolve("a@mailinator.com"), "mailinator.com");
}

TEST(Lists, ListingAPublicSuffixDoesNotCatchEveryone) {
  // Matching stops at the registrable domain: an entry "co.uk" never matches contoso.co.uk.
  const auto v = with("validation:\n  spam_domains: [co.uk, com]\n");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->check(person("a@contoso.co.uk"), nullptr).email.verdict, "Unknown");
  EXPECT_EQ(v->check(person("a@contoso.com"), nullptr).email.verdict, "Unknown");
}

TEST(Lists, RoleAndFreeMailAreFlagsNotVerdicts) {
  const auto v = Validator::defaults();
  const MailDomains dns{{"gmail.com", {MailStatus::Accepts, {}}}, {"contoso.com", {MailStatus::Accepts, {}}}};
  const auto free = v->check(person("maria.garcia@gmail.com"), &dns);
  EXPECT_EQ(free.email.verdict, "Valid");
  EXPECT_TRUE(free.email.free_mail);
  EXPECT_FALSE(free.email.role_mailbox);
  const auto role = v->check(person("sales@contoso.com"), &dns);
  EXPECT_EQ(role.email.verdict, "Valid");
  EXPECT_TRUE(role.email.role_mailbox);
  EXPECT_EQ(role.quality, "High");  // not a Low reason by default
}

TEST(Dns, AnswersBecomeVerdicts) {
  const auto v = Validator::defaults();
  const MailDomains dns{{"accepts.com", {MailStatus::Accepts, {}}},
                        {"nullmx.com", {MailStatus::NullMx, "null_mx"}},
                        {"gone.com", {MailStatus::NoSuchDomain, "no_such_domain"}},
                        {"nomail.com", {MailStatus::NoMailHost, "no_mail_host"}},
                        {"slow.com", {MailStatus::Unknown, "dns_timeout"}}};
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"a@accepts.com", "Valid", ""},           {"a@mx.accepts.com", "Unknown", "dns_failure"},  // not looked up
      {"a@nullmx.com", "Invalid", "null_mx"},   {"a@gone.com", "Invalid", "no_such_domain"},
      {"a@nomail.com", "Invalid", "no_mail_host"}, {"a@slow.com", "Unknown", "dns_timeout"},
  };
  for (const auto& [email, verdict, reason] : cases) {
    SCOPED_TRACE(email);
    const auto r = v->check(person(email), &dns);
    EXPECT_EQ(r.email.verdict, verdict);
    EXPECT_EQ(r.email.reasons, reason.empty() ? std::vector<std::string>{} : std::vector<std::string>{reason});
  }
  // DNS off: at best Unknown, and said so.
  EXPECT_EQ(v->check(person("a@accepts.com"), nullptr).email.reasons, std::vector<std::string>{"dns_off"});
  // Syntax first: an invalid address is never looked up.
  EXPECT_EQ(v->domain_to_resolve("a..b@accepts.com"), "");
  EXPECT_EQ(v->domain_to_resolve("  A@Accepts.COM "), "accepts.com");
}

struct QualityCase {
  std::string name;
  Contact contact;
  std::vector<std::string> reasons;  // empty: High
};

TEST(Quality, DefaultRules) {
  const auto v = Validator::defaults();
  const MailDomains dns{{"contoso.com", {MailStatus::Accepts, {}}}, {"gone.com", {MailStatus::NoSuchDomain, {}}}};
  auto named = [](Contact c, std::string first, std::string last, std::string company = "Fabrikam") {
    c.first_name = std::move(first);
    c.last_name = std::move(last);
    c.company = std::move(company);
    return c;
  };
  auto test_lead = person("maria@contoso.com");
  test_lead.test_lead = true;
  const std::vector<QualityCase> cases = {
      {"clean", person("maria@contoso.com", "+49 30 12345678", "DE"), {}},
      {"phone only", person("", "+49 30 12345678", "DE"), {}},
      {"invalid email", person("maria@gone.com"), {"email_invalid"}},
      {"spam email", person("maria@mailinator.com"), {"email_spam"}},
      {"invalid phone", person("maria@contoso.com", "12", "US"), {"phone_invalid"}},
      {"nobody to contact", person(""), {"no_contact"}},
      {"test lead", test_lead, {"test_lead"}},
      {"placeholder first name", named(person("maria@contoso.com"), "Test", "Garcia"), {"placeholder_name"}},
      {"placeholder last name", named(person("maria@contoso.com"), "Maria", "asdf"), {"placeholder_name"}},
      {"placeholder full name", named(person("maria@contoso.com"), "John", "Doe"), {"placeholder_name"}},
      {"repeated letters", named(person("maria@contoso.com"), "aaaa", "Garcia"), {"placeholder_name"}},
      {"placeholder company", named(person("maria@contoso.com"), "Maria", "Garcia", "N/A"), {"placeholder_name"}},
      {"real short names", named(person("maria@contoso.com"), "Al", "Wu", "3M"), {}},
      {"phone from elsewhere", person("maria@contoso.com", "+44 20 7946 0958", "DE"), {"phone_country_mismatch"}},
      // One calling code, several countries: +1 for the US and Canada, +44 for the UK and Guernsey.
      {"NANP neighbour", person("maria@contoso.com", "+1 416-555-0123", "US"), {}},
      {"UK mobile in GG metadata", person("maria@contoso.com", "07911 123456", "GB"), {}},
      {"several at once", named(person("maria@gone.com", "12", "US"), "test", "test"),
       {"email_invalid", "phone_invalid", "placeholder_name"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = v->check(c.contact, &dns);
    EXPECT_EQ(r.quality_reasons, c.reasons);
    EXPECT_EQ(r.quality, c.reasons.empty() ? "High" : "Low");
  }
}

TEST(Quality, ConfigurableRules) {
  const auto v = with("validation:\n  quality:\n    low_when: [role_mailbox, free_mail, email_unknown]\n"
                      "    placeholder_names: [nobody]\n");
  ASSERT_TRUE(v);
  const MailDomains dns{{"contoso.com", {MailStatus::Accepts, {}}}, {"gmail.com", {MailStatus::Accepts, {}}}};
  EXPECT_EQ(v->check(person("info@contoso.com"), &dns).quality_reasons, std::vector<std::string>{"role_mailbox"});
  EXPECT_EQ(v->check(person("maria@gmail.com"), &dns).quality_reasons, std::vector<std::string>{"free_mail"});
  EXPECT_EQ(v->check(person("maria@slow.com"), &dns).quality_reasons, std::vector<std::string>{"email_unknown"});
  // Rules not listed no longer count.
  EXPECT_EQ(v->check(person("maria@mailinator.com"), &dns).quality, "High");
  auto c = person("maria@contoso.com");
  c.first_name = "test";
  EXPECT_EQ(v->check(c, &dns).quality, "High");
}

TEST(Quality, ConfigErrorsNameTheKey) {
  const auto errors = errors_of("validation:\n  quality:\n    low_when: [email_invald]\n"
                                "  dns:\n    servers: [dns.google]\n    timeout: 10ms\n");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "test.yaml:5:15: validation.quality.low_when: unknown quality reason 'email_invald'; did you "
                       "mean 'email_invalid'?");
  EXPECT_NE(errors[1].find("validation.dns.servers: 'dns.google' is not an IP address"), std::string::npos);
  EXPECT_NE(errors[2].find("validation.dns.timeout"), std::string::npos);
}

TEST(Quality, ServersAcceptIpAndPortForms) {
  EXPECT_TRUE(errors_of("validation:\n  dns:\n    servers: [1.1.1.1, \"127.0.0.1:5353\", \"::1\", \"[::1]:53\"]\n")
                  .empty());
  EXPECT_EQ(errors_of("validation:\n  dns:\n    servers: [\"127.0.0.1:99999\"]\n").size(), 1u);
}

TEST(Stage, PipelineFillsTheLeadsVerdicts) {
  routing::RouteTable routes;
  model::Lead lead;
  lead.contact.email = " Maria@Contoso.COM ";
  lead.contact.phone = "030 12345678";
  lead.contact.country = "DE";
  lead.contact.first_name = "Maria";
  const MailDomains dns{{"contoso.com", {MailStatus::Accepts, {}}}};
  pipeline::run(routes, lead, nullptr, Validator::defaults().get(), &dns);
  EXPECT_EQ(lead.email_check.verdict, "Valid");
  EXPECT_EQ(lead.email_check.normalized, "maria@contoso.com");
  EXPECT_EQ(lead.phone_check.e164, "+493012345678");
  EXPECT_EQ(lead.phone_check.type, "fixed_line");
  EXPECT_EQ(lead.quality, "High");
}

}  // namespace
}  // namespace leadrelay::validate
