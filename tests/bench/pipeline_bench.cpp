// Pipeline micro benchmarks (Google Benchmark), one thread each: the ms-marketplace format mapping (JSON parse
// included, as intake does it), normalize, route matching against 100 rules (the lead matches only the last),
// the dedup keys (the redelivery digest of the body and the person-and-offer key), and the routed lead's lead.v1
// encoding both ways, and the SHA-256 of a source secret (intake hashes each request's) beside OpenSSL's one-shot
// SHA256(). Run: build/release/tests/bench/pipeline_bench (figures in the README).
#include <benchmark/benchmark.h>

#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <string>
#include <vector>

#include "connectors/source_formats.hpp"
#include "daemon/intake/canonical.hpp"
#include "daemon/intake/intake.hpp"
#include "daemon/intake/json_body.hpp"
#include "daemon/model/lead.hpp"
#include "daemon/pipeline/pipeline.hpp"
#include "daemon/routing/router.hpp"
#include "daemon/util/digest.hpp"

namespace {
using namespace leadrelay;

// Lead bodies as Microsoft sends them (../shared/design/FORMATS.md), with the variety of tests/bench/leads.lua.
std::vector<std::string> bodies() {
  const char* countries[] = {"US", "USA", "Germany", "GB", "FRA", "Japan", "IN", "Brasil"};
  const char* actions[] = {"INS", "PLT", "Create", "StartTestDrive"};
  std::vector<std::string> out;
  for (int i = 1; i <= 64; ++i) {
    const std::string n = std::to_string(i);
    out.push_back(R"({"UserDetails":{"FirstName":"  Person)" + n + R"( ","LastName":"Doe","Email":" Person)" + n +
                  "@Contoso" + std::to_string(i % 17) + R"(.com","Phone":"+1617555)" + std::to_string(1000 + i) +
                  R"(","Country":")" + countries[i % 8] + R"(","Company":"Contoso )" + n +
                  R"(","Title":"CTO"},"LeadSource":"AzureMarketplace-)" + actions[i % 4] +
                  R"(|contoso.analytics-pro","ActionCode":")" + actions[i % 4] +
                  R"(","OfferTitle":"Contoso Analytics Pro","Description":"Interested in a trial"})");
  }
  return out;
}

// The bodies as the pipeline maps them from the journal.
std::vector<model::Lead> mapped_leads() {
  std::vector<model::Lead> out;
  for (const auto& body : bodies()) {
    model::Lead lead;
    std::string error;
    const auto id = "01900000-0000-7000-8000-" + std::to_string(100000000000 + out.size());
    if (!intake::map_journaled("ms-marketplace", body, id, "marketplace", 1732320000000, lead, error)) std::abort();
    out.push_back(std::move(lead));
  }
  return out;
}

void BM_MapMarketplace(benchmark::State& state) {
  const auto all = bodies();
  const auto* format = connectors::find_format("ms-marketplace");
  std::size_t i = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    const auto& body = all[i++ % all.size()];
    rapidjson::Document doc;
    intake::Rejection error;
    model::Lead lead;
    const bool ok = intake::parse_json_object(body, doc, error) && format->map(doc, lead, error);
    benchmark::DoNotOptimize(ok);
    bytes += static_cast<std::int64_t>(body.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_MapMarketplace);

void BM_Normalize(benchmark::State& state) {
  const auto leads = mapped_leads();
  const routing::RouteTable routes;
  std::size_t i = 0;
  for (auto _ : state) {
    model::Lead lead = leads[i++ % leads.size()];  // the copy is part of the figure: normalize works in place
    pipeline::Context context{routes, nullptr, nullptr, nullptr, nullptr, {}};
    benchmark::DoNotOptimize(pipeline::normalize(lead, context));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Normalize);

// The mapped leads as the pipeline's first stage leaves them, for the stages after it.
std::vector<model::Lead> normalized_leads() {
  auto leads = mapped_leads();
  const routing::RouteTable none;
  for (auto& lead : leads) {
    pipeline::Context context{none, nullptr, nullptr, nullptr, nullptr, {}};
    pipeline::normalize(lead, context);
  }
  return leads;
}

// 100 rules, each on country, an email-domain glob and origin; only the last (a default) matches, so every
// lead is checked against all of them.
routing::RouteTable hundred_rules() {
  std::string yaml;
  for (int i = 0; i < 99; ++i) {
    yaml += "- name: rule" + std::to_string(i) + "\n  when:\n    all:\n      - country: [US, CA, DE, GB, FR, JP, IN, BR]\n" +
            "      - email_domain: ['*.partner" + std::to_string(i) + ".example']\n" +
            "      - not: {origin: AzurePortal}\n  to: [{kafka: topic" + std::to_string(i % 10) + "}]\n";
  }
  yaml += "- name: default\n  to: [{kafka: leads.all}]\n";
  config::Diagnostics diagnostics("routes.yaml");
  routing::RouteContext context{{"marketplace"}, {}, true};
  auto table = routing::parse_routes(diagnostics, YAML::Load(yaml), context);
  for (const auto& d : diagnostics.items()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  if (!diagnostics.items().empty() || table.rules.size() != 100) std::abort();
  return table;
}

void BM_Route100Rules(benchmark::State& state) {
  const auto table = hundred_rules();
  auto leads = normalized_leads();
  std::size_t i = 0;
  for (auto _ : state) {
    auto decision = routing::route(table, leads[i++ % leads.size()]);
    if (decision.destinations.size() != 1) std::abort();
    benchmark::DoNotOptimize(decision);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Route100Rules);

// Both dedup keys of a lead: the redelivery key (a digest of the body's canonical JSON, computed at intake)
// and the person-and-offer key (computed by the pipeline).
void BM_DedupKeys(benchmark::State& state) {
  const auto all = bodies();
  std::vector<rapidjson::Document> docs(all.size());
  for (std::size_t k = 0; k < all.size(); ++k) docs[k].Parse(all[k].data(), all[k].size());
  auto leads = normalized_leads();
  std::size_t i = 0;
  for (auto _ : state) {
    const auto k = i++ % all.size();
    auto replay = intake::canonical_digest(docs[k]);
    auto person = pipeline::person_key(leads[k]);
    benchmark::DoNotOptimize(replay);
    benchmark::DoNotOptimize(person);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DedupKeys);

void BM_LeadToJson(benchmark::State& state) {
  const auto leads = mapped_leads();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(model::to_json(leads[i++ % leads.size()]));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_LeadToJson);

void BM_LeadFromJson(benchmark::State& state) {
  std::vector<std::string> encoded;
  for (const auto& lead : mapped_leads()) encoded.push_back(model::to_json(lead));
  std::size_t i = 0;
  for (auto _ : state) {
    model::Lead lead;
    std::string error;
    if (!model::from_json(encoded[i++ % encoded.size()], lead, error)) std::abort();
    benchmark::DoNotOptimize(lead);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_LeadFromJson);

// A 48-character secret, as `openssl rand -hex 24` makes them.
const std::string kSecret(48, 'a');

void BM_Sha256Secret(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(util::sha256(kSecret));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Sha256Secret);

void BM_Sha256OneShot(benchmark::State& state) {  // what util::sha256 called before
  util::Sha256 out{};
  for (auto _ : state) {
    SHA256(reinterpret_cast<const unsigned char*>(kSecret.data()), kSecret.size(), out.data());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Sha256OneShot);

}  // namespace

BENCHMARK_MAIN();
