// Contact validation micro benchmarks (Google Benchmark): email syntax checks, phone parse + validate, and a
// validation pass over 100,000 leads with a warm DNS cache (the resolver's cache primed, as after a day of
// traffic), each on one thread. Run: build/release/tests/bench/validate_bench (figures in the README).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "daemon/validate/ares_resolver.hpp"
#include "daemon/validate/email.hpp"
#include "daemon/validate/phone.hpp"
#include "daemon/validate/validator.hpp"

namespace {
using namespace leadrelay;

// What lead forms send: mostly ordinary addresses, some typos and junk, a few international ones.
const std::vector<std::string> kEmails = {
    "jane.doe@contoso.com",        "j.smith+crm@fabrikam.co.uk",   "sales@northwind.io",
    "m.mueller@beispiel-gmbh.de",  "ceo@adventure-works.com",      "someone@sub.domain.example.org",
    "first.last@university.edu",   "x@mailinator.com",             "anna.rossi@azienda.it",
    "jane..doe@contoso.com",       "no-at-sign.contoso.com",       "bob@contoso.con",
    "kim@tailspin-toys.net",       "lee@wideworldimporters.com",   "o'brien@contoso.ie",
    "info@m\xc3\xbcnchen.de",      "team@litware.ai",              "pat@proseware.com",
};

const std::vector<std::pair<std::string, std::string>> kPhones = {
    {"+1 650-253-0000", "US"}, {"(416) 555-0123", "CA"}, {"020 7946 0958", "GB"},  {"0151 23456789", "DE"},
    {"06 12 34 56 78", "FR"},  {"+34 912 345 678", "ES"}, {"090-1234-5678", "JP"}, {"+91 98765 43210", "IN"},
    {"12", "US"},              {"0412 345 678", "AU"},    {"+55 11 91234-5678", "BR"}, {"650-253-0000 x123", "US"},
};

void BM_EmailSyntax(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = validate::check_email_syntax(kEmails[i++ % kEmails.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_EmailSyntax);

// The worst case: every address at a domain not seen recently (50,000 distinct domains in rotation), so each
// check pays for IDNA and the Public Suffix List lookups.
void BM_EmailSyntaxNewDomains(benchmark::State& state) {
  std::vector<std::string> emails;
  for (int i = 0; i < 50000; ++i) emails.push_back("person" + std::to_string(i) + "@company" + std::to_string(i) + ".co.uk");
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = validate::check_email_syntax(emails[i++ % emails.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_EmailSyntaxNewDomains);

// Each number checked afresh (the memory of recent verdicts bypassed): what a lead with a new number costs.
void BM_Phone(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [number, region] = kPhones[i++ % kPhones.size()];
    auto r = validate::detail::check_phone_uncached(number, region);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Phone);

// The same numbers again and again: a redelivery, or one person's repeated leads (remembered verdicts).
void BM_PhoneRemembered(benchmark::State& state) {
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [number, region] = kPhones[i++ % kPhones.size()];
    auto r = validate::check_phone(number, region);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PhoneRemembered);

// The numbers of tests/bench/leads.lua (+1 617 555 xxxx, country US): one North American number. +1 is shared by 25
// regions, so libphonenumber matches the number against the patterns of its region more than once.
void BM_PhoneLoadBench(benchmark::State& state) {
  std::vector<std::string> numbers;
  for (int i = 1; i <= 500; ++i) {
    char number[16];
    std::snprintf(number, sizeof number, "+1617555%04d", i);  // as leads.lua writes them
    numbers.emplace_back(number);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = validate::detail::check_phone_uncached(numbers[i++ % numbers.size()], "US");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PhoneLoadBench);

// 100,000 leads over 2,000 domains, in batches of 512 as the pipeline worker reads them: per batch, one
// resolve() of its domains (all cache hits), then the validate stage on each lead. Arg 1: as the pipeline worker
// does it, each lead's email_facts made once, for the lookup and for the stage; arg 0: domain_to_resolve first and
// the stage working the email out again (as before).
void BM_ValidationPass100k(benchmark::State& state) {
  const int leads = 100000;
  const bool facts_once = state.range(0) == 1;
  validate::DnsConfig dns;
  dns.servers = {"127.0.0.1:9"};  // never asked: every domain is in the cache
  std::string error;
  auto resolver = validate::AresResolver::create(dns, error);
  if (!resolver) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::vector<model::Lead> batch_template;
  for (int i = 0; i < 2000; ++i) {
    resolver->prime("company" + std::to_string(i) + ".com", {validate::MailStatus::Accepts, {}}, std::chrono::hours(1));
  }
  const auto validator = validate::Validator::defaults();
  std::vector<model::Lead> all(static_cast<std::size_t>(leads));
  for (int i = 0; i < leads; ++i) {
    auto& l = all[static_cast<std::size_t>(i)];
    l.contact.email = "person" + std::to_string(i) + "@company" + std::to_string(i % 2000) + ".com";
    l.contact.phone = kPhones[static_cast<std::size_t>(i) % kPhones.size()].first;
    l.contact.country = kPhones[static_cast<std::size_t>(i) % kPhones.size()].second;
    l.contact.first_name = "Person";
    l.contact.last_name = "Number" + std::to_string(i);
    l.contact.company = "Company " + std::to_string(i % 2000);
  }
  for (auto _ : state) {
    for (std::size_t start = 0; start < all.size(); start += 512) {
      const auto end = std::min(all.size(), start + 512);
      std::vector<std::string> domains;
      std::vector<validate::EmailFacts> facts;
      for (auto i = start; i < end; ++i) {
        if (facts_once) {
          facts.push_back(validator->email_facts(all[i].contact.email));
          domains.push_back(facts.back().resolve);
        } else {
          domains.push_back(validator->domain_to_resolve(all[i].contact.email));
        }
      }
      const auto mail = resolver->resolve(domains);
      for (auto i = start; i < end; ++i) {
        auto lead = all[i];
        validator->validate(lead, &mail, facts_once ? &facts[i - start] : nullptr);
        benchmark::DoNotOptimize(lead);
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * leads);
  if (resolver->stats().queries != 0) state.SkipWithError("a DNS query was sent: the cache was not warm");
}
BENCHMARK(BM_ValidationPass100k)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
