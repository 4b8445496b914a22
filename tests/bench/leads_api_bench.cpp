// The leads API at scale, against the real daemon: seeds a store with N leads (default 1,000,000) in every status,
// starts `leadrelay run` on it, and measures over HTTP on the admin listener
//   1. GET /api/v1/leads with three filters (six mixes, rotated): p50 / p99 / max
//   1b. GET /api/v1/insights/<widget> for each of the seven widgets, with six of the console's query mixes: p50 / p95
//      / p99 / max
//   2. GET /api/v1/leads/export?format=csv of 5,000 rows: p50 / p99 / max
//   3. intake at 1,000 leads/s alone, then with status changes at 200/s beside it: intake's p50 / p99 each time,
//      and the changes' own p50 / p99. Latency is measured from each request's scheduled time (no coordinated
//      omission), on fresh connections.
//   4. with --retention: the daemon again, with retention: {contact_data: 1d, informational_leads: 1d}, so that
//      nearly every stored lead is past its time: intake at 1,000 leads/s while the retention pass removes their
//      contact data, beside intake alone just before; and how long the whole pruning took. The store is then
//      spent (seeded again at the next run).
// Prints one table. The store is kept in --dir, so later runs skip the seeding (--reseed to redo it).
//   leads_api_bench --bin build/release/leadrelay [--leads N] [--dir DIR] [--requests N] [--seconds S] [--reseed]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/http/admin_server.hpp"
#include "daemon/lifecycle/transitions.hpp"
#include "daemon/model/lead.hpp"
#include "daemon/model/lead_id.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

extern char** environ;

namespace {
using namespace leadrelay;
using Clock = std::chrono::steady_clock;
constexpr std::int64_t kDayMs = 86400000;

// Company names as varied as a partner's customers: 40 names x 25 lines of business x 50 (about 50,000 distinct).
const char* kNames[] = {"Contoso", "Fabrikam", "Northwind", "Tailspin", "Wingtip", "Adventure Works", "Litware",
                        "Proseware", "Lamna", "Trey Research", "Woodgrove", "Alpine", "Coho", "Wide World",
                        "Humongous", "Blue Yonder", "Margie's", "Lucerne", "Graphic Design", "Fourth Coffee",
                        "Relecloud", "VanArsdel", "Munson's", "Olympia", "Southridge", "Tasmanian", "Bellows",
                        "A. Datum", "Consolidated", "Liberty", "Northridge", "Salmon", "Adatum", "Nod", "Best For You",
                        "Cronus", "Fincher", "Kayak", "Meridian", "Oakwood"};
const char* kLines[] = {"Systems", "Analytics", "Health", "Foods", "Logistics", "Energy", "Labs", "Media", "Bank",
                        "Insurance", "Motors", "Retail", "Software", "Consulting", "Capital", "Pharma", "Travel",
                        "Telecom", "Networks", "Studios", "Robotics", "Hotels", "Airlines", "Mining", "Textiles"};
const char* kForms[] = {"Inc.", "Ltd", "GmbH", "LLC", "AG", "S.A.", "B.V.", "plc", "Pty Ltd", "K.K."};

const char* kCountries[] = {"US", "DE", "GB", "FR", "IN", "JP", "BR", "CA", "AU", "NL",
                            "ES", "IT", "SE", "CH", "MX", "SG", "PL", "BE", "IE", "ZA"};

struct Options {
  std::string bin;
  std::int64_t leads = 1000000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "leadrelay-leads-api-bench";
  int requests = 1000;
  int seconds = 10;
  bool reseed = false;
  bool retention = false;
};

struct Stats {
  std::vector<double> ms;
  int failures = 0;
  double pct(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(ms.size())))];
  }
  double max() { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
};

double since_ms(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// --- seeding -------------------------------------------------------------------------------------------------

model::Lead make_lead(std::int64_t i, std::mt19937_64& rng, std::int64_t now_ms) {
  model::Lead l;
  l.received_at_ms = now_ms - static_cast<std::int64_t>(rng() % (180 * kDayMs));
  l.lead_id = model::new_lead_id(l.received_at_ms);
  l.source_name = "bench";
  l.format = "ms-marketplace";
  const auto roll = rng() % 100;
  l.origin = roll < 60 ? model::Origin::AzureMarketplace : roll < 85 ? model::Origin::AppSource : model::Origin::AzurePortal;
  const bool contact_me = rng() % 100 < 55;
  l.action.code = contact_me ? "PLT" : "INS";
  l.action.call_to_action = contact_me ? model::CallToAction::ContactMe : model::CallToAction::GetItNowOrFreeTrial;
  l.action.partner_action_required = contact_me;
  l.customer_requested_contact = contact_me;
  // Offers, profile and qualified leads as a partner with a few listings sees them (the insights group by them).
  static const char* kOffers[] = {"analytics-pro", "backup", "crm-sync", "iot-hub", "sec-suite", "dev-box",
                                  "data-lake", "ml-studio"};
  const auto offer = kOffers[rng() % 8];
  l.offer = {std::string("contoso.") + offer, "contoso", offer, std::string("Contoso ") + offer};
  const auto kind = rng() % 100;
  if (kind < 15) {
    l.lead_type = model::LeadType::Profile;
    l.offer = {};
  } else if (kind < 25) {
    static const char* kPrograms[] = {"Contact request", "Digital sales opportunity", "Customer lifecycle management",
                                      "Co-sell deployment services"};
    l.classification = kind < 20 ? model::Classification::MarketingQualified : model::Classification::SalesQualified;
    l.program = kPrograms[rng() % 4];
  }
  l.contact.first_name = "Person" + std::to_string(i);
  l.contact.last_name = "Doe";
  l.contact.email = "person" + std::to_string(i) + "@company" + std::to_string(i % 5000) + ".com";
  l.contact.phone = "+1617555" + std::to_string(1000 + i % 9000);
  l.contact.company = std::string(kNames[rng() % 40]) + " " + kLines[rng() % 25] + " " +
                      std::to_string(1 + rng() % 5) + " " + kForms[rng() % 10];
  l.contact.title = "CTO";
  l.contact.country = kCountries[rng() % 20];
  l.contact.country_raw = l.contact.country;
  l.description = "Interested in a trial for the team";
  l.contactable = true;
  l.email_check.verdict = rng() % 100 < 85 ? "Valid" : "Invalid";
  l.email_check.normalized = l.contact.email;
  l.phone_check.verdict = rng() % 100 < 75 ? "Valid" : "Unknown";
  l.quality = rng() % 100 < 80 ? "High" : "Low";
  return l;
}

// A lifecycle in some status, as a partner's answers would have left it.
model::Lifecycle lifecycle_of(const model::Lead& lead, std::mt19937_64& rng, std::int64_t now_ms) {
  auto l = lifecycle::initial(lead, {});
  if (l.status != model::Status::Received) return l;
  const auto roll = rng() % 100;
  if (roll < 40 && l.expires_at_ms > now_ms) return l;  // still waiting
  if (l.expires_at_ms <= now_ms && roll < 60) {
    l.status = model::Status::Expired;
    l.closed_at_ms = l.expires_at_ms;
    l.expires_at_ms = 0;
    return l;
  }
  l.status = roll < 75 ? model::Status::Accepted : roll < 85 ? model::Status::Won : roll < 93 ? model::Status::Lost
                                                                                 : model::Status::Declined;
  l.accepted_at_ms = lead.received_at_ms + kDayMs;
  l.expires_at_ms = 0;
  l.version = l.status == model::Status::Accepted ? 2 : 3;
  if (l.status != model::Status::Declined) {
    const auto currency = rng() % 100;
    l.deal = {"Rollout", static_cast<double>(1000 + rng() % 50000), currency < 80 ? "USD" : currency < 95 ? "EUR" : "JPY",
              "2027-03-31", "", "", {}};
  } else {
    l.version = 2;
  }
  if (l.status == model::Status::Lost || l.status == model::Status::Declined) l.reason = "Others";
  if (l.status != model::Status::Accepted) l.closed_at_ms = lead.received_at_ms + 3 * kDayMs;
  return l;
}

bool seed(const Options& o, std::int64_t now_ms) {
  std::filesystem::remove_all(o.dir / "state");
  std::string error;
  store::JournalConfig jc;
  jc.synchronous_full = false;  // seeding only; the daemon runs with its own settings
  jc.max_batch = 5000;
  jc.max_pending = 200000;
  auto j = store::Journal::open(o.dir / "state", jc, error);
  if (!j) {
    std::fprintf(stderr, "cannot open the store: %s\n", error.c_str());
    return false;
  }
  const auto start = Clock::now();
  std::mt19937_64 rng(42);
  constexpr std::int64_t kChunk = 10000;
  for (std::int64_t first = 0; first < o.leads; first += kChunk) {
    const auto n = std::min(kChunk, o.leads - first);
    std::vector<model::Lead> leads;
    for (std::int64_t i = 0; i < n; ++i) leads.push_back(make_lead(first + i, rng, now_ms));
    std::sort(leads.begin(), leads.end(), [](auto& a, auto& b) { return a.received_at_ms < b.received_at_ms; });
    std::mutex m;
    std::condition_variable cv;
    std::int64_t done = 0, refused = 0;
    for (auto& l : leads) {
      j->append(store::Entry{l.lead_id, "bench", l.received_at_ms, "{}", "ms-marketplace", {}, 0},
                [&](store::AppendResult r) {
                  std::lock_guard lock(m);
                  ++done;
                  if (r.status != store::AppendStatus::Committed) ++refused;
                  cv.notify_one();
                });
    }
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return done == n; });
    }
    if (refused > 0) {
      std::fprintf(stderr, "seeding: the journal refused %lld leads\n", static_cast<long long>(refused));
      return false;
    }
    // One producer into a fresh store: the seqs are first+1 ... first+n, in append order.
    const auto last_seq = first + n;
    std::vector<store::RoutingRecord> records;
    for (std::int64_t i = 0; i < n; ++i) {
      auto& l = leads[static_cast<std::size_t>(i)];
      store::RoutingRecord r;
      r.seq = last_seq - n + 1 + i;
      r.state = store::RoutingState::Unrouted;
      r.outcome = "no rule matched";
      r.lead_id = l.lead_id;
      r.source = "bench";
      r.action = l.action.code;
      r.lead_json = model::to_json(l);
      r.msg_key = l.contact.email;
      r.lifecycle = store::LifecycleRecord{lifecycle_of(l, rng, now_ms),
                                           std::string(model::to_string(l.action.call_to_action)),
                                           l.contact.country,
                                           l.contact.company,
                                           std::string(model::to_string(l.origin)),
                                           std::string(model::to_string(l.lead_type)),
                                           std::string(model::to_string(l.classification)),
                                           l.quality,
                                           l.email_check.verdict,
                                           l.phone_check.verdict,
                                           {},
                                           l.offer.id,
                                           l.program};
      records.push_back(std::move(r));
    }
    // As the pipeline does: the customer filter's index in chunks.
    if (!j->write([&](store::Transaction& tx, std::string& e) {
          return tx.record_routing(records, last_seq, e) && tx.index_companies(last_seq, e);
        })) {
      std::fprintf(stderr, "seeding failed\n");
      return false;
    }
    if ((first / kChunk) % 10 == 0) {
      std::fprintf(stderr, "seeded %lld leads (%.0f s)\n", static_cast<long long>(first + n), since_ms(start) / 1000);
    }
  }
  j->stop();
  std::fprintf(stderr, "seeded %lld leads in %.0f s\n", static_cast<long long>(o.leads), since_ms(start) / 1000);
  return true;
}

// --- the daemon ----------------------------------------------------------------------------------------------

struct Daemon {
  pid_t pid = -1;
  std::string admin, intake;
  FILE* log = nullptr;
};

bool start_daemon(const Options& o, Daemon& d, const std::string& extra = {}) {
  std::ofstream(o.dir / "viewer.token") << "viewer-0123456789abcdef0123456789\n";
  std::ofstream(o.dir / "admin.token") << "admin-0123456789abcdef0123456789\n";
  std::ofstream(o.dir / "bench.secret") << "bench-0123456789abcdef0123456789\n";
  std::ofstream(o.dir / "bench.yaml")
      << "state_dir: ./state\n"
         "server: {listen: [\"127.0.0.1:0\"], max_connections: 2000}\n"
         "admin:\n  listen: \"127.0.0.1:0\"\n  tokens:\n"
         "    - {name: bench-viewer, role: viewer, token_file: viewer.token}\n"
         "    - {name: bench-admin, role: referrals_admin, token_file: admin.token}\n"
         "logging: {level: info}\n"
         "insights: {usd_rates: {EUR: 1.08}}\n"
         "validation: {dns: {enabled: false}}\n"
         "sources:\n  - {name: bench, path: /leads, format: ms-marketplace, replay_window: 0s, auth: {secret_file: "
         "bench.secret}}\n"
      << extra;
  int pipefd[2];
  if (pipe(pipefd) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  const auto config = (o.dir / "bench.yaml").string();
  const char* argv[] = {o.bin.c_str(), "run", "--config", config.c_str(), nullptr};
  const int spawned = posix_spawn(&d.pid, o.bin.c_str(), &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return false;
  close(pipefd[1]);
  d.log = fdopen(pipefd[0], "r");
  char line[4096];
  while ((d.admin.empty() || d.intake.empty()) && std::fgets(line, sizeof line, d.log) != nullptr) {
    rapidjson::Document e;
    e.Parse(line);
    if (!e.IsObject() || !e.HasMember("event")) continue;
    const std::string event = e["event"].GetString();
    if (event == "admin_listening") d.admin = e["address"].GetString();
    if (event == "listening") d.intake = e["address"].GetString();
    if (event == "store_open_failed" || event == "listen_failed") {
      std::fprintf(stderr, "leadrelay: %s", line);
      return false;
    }
  }
  // Drain the log so the daemon never blocks on a full pipe.
  std::thread([f = d.log] {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, f) != nullptr) {
    }
  }).detach();
  return !d.admin.empty() && !d.intake.empty();
}

http::AdminAnswer call(const std::string& address, const std::string& token, const std::string& method,
                       const std::string& target, const std::string& body = {}) {
  http::AdminCall c;
  c.address = address;
  c.token = token;
  c.method = method;
  c.target = target;
  c.body = body;
  return http::admin_call(c);
}

// `rate` requests per second from `threads` threads for `seconds`, each made by `make(i)`; latency from the
// scheduled time.
Stats paced(double rate, int threads, int seconds, const std::function<bool(std::int64_t)>& make) {
  Stats stats;
  std::mutex m;
  std::vector<std::thread> pool;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  const auto total = static_cast<std::int64_t>(rate * seconds);
  std::atomic<std::int64_t> next{0};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        const auto i = next.fetch_add(1);
        if (i >= total) return;
        const auto due = start + std::chrono::microseconds(static_cast<std::int64_t>(1e6 * i / rate));
        std::this_thread::sleep_until(due);
        const bool ok = make(i);
        const auto ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
        std::lock_guard lock(m);
        stats.ms.push_back(ms);
        if (!ok) ++stats.failures;
      }
    });
  }
  for (auto& t : pool) t.join();
  return stats;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--bin") o.bin = value();
    else if (a == "--leads") o.leads = std::stoll(value());
    else if (a == "--dir") o.dir = value();
    else if (a == "--requests") o.requests = std::stoi(value());
    else if (a == "--seconds") o.seconds = std::stoi(value());
    else if (a == "--reseed") o.reseed = true;
    else if (a == "--retention") o.retention = true;
    else {
      std::fprintf(stderr, "usage: leads_api_bench --bin PATH [--leads N] [--dir DIR] [--requests N] [--seconds S] "
                           "[--reseed] [--retention]\n");
      return 64;
    }
  }
  if (o.bin.empty()) {
    std::fprintf(stderr, "leads_api_bench: --bin names the leadrelay binary\n");
    return 64;
  }
  std::filesystem::create_directories(o.dir);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const auto marker = o.dir / ("seeded-" + std::to_string(o.leads));
  if (o.reseed || !std::filesystem::exists(marker)) {
    for (const auto& f : std::filesystem::directory_iterator(o.dir)) {
      if (f.path().filename().string().rfind("seeded-", 0) == 0) std::filesystem::remove(f.path());
    }
    if (!seed(o, now_ms)) return 1;
    std::ofstream(marker) << "\n";
  }
  Daemon d;
  if (!start_daemon(o, d)) {
    std::fprintf(stderr, "leads_api_bench: the daemon did not start\n");
    return 1;
  }
  const std::string viewer = "viewer-0123456789abcdef0123456789";
  const std::string admin = "admin-0123456789abcdef0123456789";
  std::printf("leads stored: %lld\n", static_cast<long long>(o.leads));

  // 1. Lists with three filters.
  const std::string from = "2026-01-01";
  const std::vector<std::string> lists = {
      "status=Received&country=US&quality=High",
      "call_to_action=ContactMe&lead_source=AzureMarketplace&email_validity=Valid",
      "status=Accepted,Won&country=DE,FR&phone_validity=Valid",
      "hot=true&status=Received&country=GB",
      "customer=fabrikam&status=Received,Accepted&quality=High",
      "customer=Northwind%20Logistics%203&status=Received,Accepted&country=US",
      "status=Lost,Declined&lead_source=AppSource&country=JP",
  };
  for (int i = 0; i < 30; ++i) call(d.admin, viewer, "GET", "/api/v1/leads?" + lists[i % lists.size()]);  // warm
  std::vector<Stats> per(lists.size());
  Stats all;
  for (int i = 0; i < o.requests; ++i) {
    const auto k = static_cast<std::size_t>(i) % lists.size();
    const auto t = Clock::now();
    const auto a = call(d.admin, viewer, "GET", "/api/v1/leads?limit=50&" + lists[k]);
    const auto ms = since_ms(t);
    per[k].ms.push_back(ms);
    all.ms.push_back(ms);
    if (a.status != 200) ++all.failures;
  }
  std::printf("\n%-78s %8s %8s %8s %8s\n", "GET /api/v1/leads (limit 50)", "p50 ms", "p95 ms", "p99 ms", "max ms");
  for (std::size_t k = 0; k < lists.size(); ++k) {
    std::printf("  %-76s %8.2f %8.2f %8.2f %8.2f\n", lists[k].c_str(), per[k].pct(50), per[k].pct(95), per[k].pct(99),
                per[k].max());
  }
  std::printf("  %-76s %8.2f %8.2f %8.2f %8.2f   (%zu requests, %d failed)\n", "all", all.pct(50), all.pct(95),
              all.pct(99), all.max(), all.ms.size(), all.failures);

  // 1b. The insights, each widget with the console's query mixes (the roll-up; a customer reads lifecycle rows).
  const std::vector<std::string> widgets = {"summary", "funnel", "offers", "geo", "programs", "reasons", "compare"};
  const std::vector<std::string> mixes = {"", "range=6M", "range=1M&country=US,DE", "tab=qualified&range=6M",
                                          "lead_type=offer&offer=contoso.backup,contoso.iot-hub",
                                          "range=6M&customer=fabrikam"};
  std::printf("\n%-78s %8s %8s %8s %8s\n", "GET /api/v1/insights/<widget> (6 query mixes each)", "p50 ms", "p95 ms",
              "p99 ms", "max ms");
  Stats insights_all;
  for (const auto& widget : widgets) {
    Stats stats;
    for (const auto& mix : mixes) call(d.admin, viewer, "GET", "/api/v1/insights/" + widget + "?" + mix);  // warm
    for (int i = 0; i < std::max(60, o.requests / 10); ++i) {
      const auto& mix = mixes[static_cast<std::size_t>(i) % mixes.size()];
      const auto t = Clock::now();
      const auto a = call(d.admin, viewer, "GET", "/api/v1/insights/" + widget + "?" + mix);
      stats.ms.push_back(since_ms(t));
      insights_all.ms.push_back(stats.ms.back());
      if (a.status != 200) ++stats.failures;
    }
    std::printf("  %-76s %8.2f %8.2f %8.2f %8.2f   (%zu requests, %d failed)\n", widget.c_str(), stats.pct(50),
                stats.pct(95), stats.pct(99), stats.max(), stats.ms.size(), stats.failures);
  }
  for (const auto& mix : mixes) {
    Stats stats;
    for (int i = 0; i < 30; ++i) {
      const auto t = Clock::now();
      call(d.admin, viewer, "GET", "/api/v1/insights/funnel?" + mix);
      stats.ms.push_back(since_ms(t));
    }
    std::printf("    funnel?%-69s %8.2f %8.2f %8.2f %8.2f\n", mix.c_str(), stats.pct(50), stats.pct(95),
                stats.pct(99), stats.max());
  }

  // 2. Exports of 5,000 rows.
  Stats exports;
  std::size_t bytes = 0;
  for (int i = 0; i < 20; ++i) {
    const auto t = Clock::now();
    const auto a = call(d.admin, viewer, "GET", "/api/v1/leads/export?format=csv&status=Received,Accepted,Expired");
    exports.ms.push_back(since_ms(t));
    bytes = a.body.size();
    if (a.status != 200) ++exports.failures;
  }
  std::printf("\n%-78s %8.2f %8.2f %8.2f   (%zu bytes, %d failed)\n", "GET /api/v1/leads/export?format=csv (5,000 rows)",
              exports.pct(50), exports.pct(99), exports.max(), bytes, exports.failures);

  // 3. Intake at 1,000/s alone, then with 200 changes/s (accepting waiting leads) beside it.
  std::vector<std::string> waiting;
  for (std::string cursor; waiting.size() < static_cast<std::size_t>(200 * o.seconds);) {
    const auto a = call(d.admin, viewer, "GET", "/api/v1/leads?status=Received&limit=500" + cursor);
    rapidjson::Document doc;
    doc.Parse(a.body.c_str());
    if (!doc.IsObject() || !doc["leads"].IsArray() || doc["leads"].Empty()) break;
    for (const auto& l : doc["leads"].GetArray()) waiting.emplace_back(l["lead_id"].GetString());
    if (!doc["next_cursor"].IsString()) break;
    cursor = std::string("&cursor=") + doc["next_cursor"].GetString();
  }
  const std::string body =
      R"({"UserDetails":{"FirstName":"Jane","LastName":"Doe","Email":"jane@contoso.com","Phone":"16175555555",)"
      R"("Country":"USA","Company":"Contoso"},"LeadSource":"AzureMarketplace-PLT|contoso.analytics-pro",)"
      R"("ActionCode":"PLT","OfferTitle":"Contoso Analytics Pro"})";
  const auto post_lead = [&](std::int64_t) {
    return call(d.intake, "", "POST", "/leads?code=bench-0123456789abcdef0123456789", body).status == 202;
  };
  auto alone = paced(1000, 16, o.seconds, post_lead);
  Stats beside, changes;
  std::mutex failures_mutex;
  std::map<int, int> change_failures;  // status (0: no answer) -> count
  {
    std::thread changer([&] {
      changes = paced(200, 8, o.seconds, [&](std::int64_t i) {
        if (static_cast<std::size_t>(i) >= waiting.size()) return false;
        const auto a = call(d.admin, admin, "POST", "/api/v1/leads/" + waiting[static_cast<std::size_t>(i)] + "/accept",
                            R"({"deal_name":"Bench","deal_value":100,"currency":"USD","close_date":"2027-01-31",)"
                            R"("notes":"bench"})");
        if (a.status != 200) {
          std::lock_guard lock(failures_mutex);
          ++change_failures[a.status];
        }
        return a.status == 200;
      });
    });
    beside = paced(1000, 16, o.seconds, post_lead);
    changer.join();
  }
  std::printf("\n%-78s %8s %8s %8s\n", "intake at 1,000 leads/s (latency from the scheduled send)", "p50 ms", "p99 ms",
              "max ms");
  std::printf("  %-76s %8.2f %8.2f %8.2f   (%zu requests, %d failed)\n", "alone", alone.pct(50), alone.pct(99),
              alone.max(), alone.ms.size(), alone.failures);
  std::printf("  %-76s %8.2f %8.2f %8.2f   (%zu requests, %d failed)\n", "with 200 status changes/s beside it",
              beside.pct(50), beside.pct(99), beside.max(), beside.ms.size(), beside.failures);
  std::printf("  %-76s %8.2f %8.2f %8.2f   (%zu requests, %d failed)\n", "the status changes themselves",
              changes.pct(50), changes.pct(99), changes.max(), changes.ms.size(), changes.failures);
  for (const auto& [status, count] : change_failures) {
    std::printf("  (changes answered %d: %d)\n", status, count);
  }
  kill(d.pid, SIGTERM);
  int status = 0;
  waitpid(d.pid, &status, 0);
  if (!o.retention) return 0;

  // 4. Pruning the contact data of (nearly) every stored lead while intake runs at 1,000 leads/s.
  std::filesystem::remove(marker);  // the store is spent: seeded again next time
  std::string error;
  auto reader = store::Reader::open(o.dir / "state", error);
  std::int64_t kept = 0;
  std::int64_t cleared = 0;
  reader->contact_counts(kept, cleared);
  const auto kept_before = kept;
  Daemon r;
  if (!start_daemon(o, r, "retention: {contact_data: 1d, informational_leads: 1d, check_every: 1s}\n")) {
    std::fprintf(stderr, "leads_api_bench: the daemon did not start with retention\n");
    return 1;
  }
  const auto pruning_started = Clock::now();
  auto during = paced(1000, 16, o.seconds, [&](std::int64_t) {
    return call(r.intake, "", "POST", "/leads?code=bench-0123456789abcdef0123456789", body).status == 202;
  });
  std::int64_t cleared_in_window = 0;
  reader->contact_counts(kept, cleared_in_window);
  const auto window_s = std::chrono::duration<double>(Clock::now() - pruning_started).count();
  const auto rate = static_cast<double>(cleared_in_window) / window_s;
  std::int64_t due = 0;  // what the pass will clear in all: everything but the leads still waiting
  reader->retention_waiting(std::numeric_limits<std::int64_t>::max(), due, error);
  due = kept_before - due;
  std::printf("\n%-78s %8s %8s %8s\n", "intake at 1,000 leads/s while retention prunes", "p50 ms", "p99 ms", "max ms");
  std::printf("  %-76s %8.2f %8.2f %8.2f   (%zu requests, %d failed)\n", "alone (phase 3)", alone.pct(50),
              alone.pct(99), alone.max(), alone.ms.size(), alone.failures);
  std::printf("  %-76s %8.2f %8.2f %8.2f   (%zu requests, %d failed)\n", "while the pass removes contact data",
              during.pct(50), during.pct(99), during.max(), during.ms.size(), during.failures);
  std::printf("  contact data removed from %lld leads in the %.0f s window (%.0f leads/s); at that rate the %lld "
              "leads due take %.0f min (the rest wait for an answer)\n",
              static_cast<long long>(cleared_in_window), window_s, rate, static_cast<long long>(due),
              rate > 0 ? static_cast<double>(due) / rate / 60 : 0.0);
  kill(r.pid, SIGTERM);
  waitpid(r.pid, &status, 0);
  return 0;
}
