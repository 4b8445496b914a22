#include "daemon/outbox/pipeline_worker.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "connectors/pc_referral/pc_referral_format.hpp"
#include "connectors/source_formats.hpp"
#include "daemon/intake/intake.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/notify/planner.hpp"
#include "daemon/pipeline/pipeline.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::outbox {
namespace {

// Leads routed per batch, and so per store transaction: a transaction rewrites the pages it touches (the right edge
// of every table and index ordered by sequence or time, and the leaves of the person keys' B-tree, which are random)
// once, so a larger batch writes less per lead while a backlog drains. At a light load a batch is whatever has
// arrived. While more than kBacklogDepth leads wait behind a batch, the next may take up to kBacklogBatch: 7.7-7.9
// KB written a lead instead of 8.5, the full pipeline 6-12 % faster (README, Performance). Otherwise the bound stays
// at kBatch: with 1,024 always, the end-to-end p99 at 1,000 leads/s spread to 22-61 ms against 26-31 ms (after a
// stall, one big batch held every lead in it until the last was routed).
constexpr std::size_t kBatch = 256;
constexpr std::size_t kBacklogBatch = 1024;
constexpr std::int64_t kBacklogDepth = 4 * kBacklogBatch;

// A lead routed in this batch, with what is counted once its outcome is durable.
struct Routed {
  store::RoutingRecord record;
  std::vector<std::string> matched_rules;
  std::string drop_rule;
  std::string email_verdict, phone_verdict, quality;  // for the verdict metrics
};

// The lead of a journal row. Rows written before the raw-only journal carry their mapped lead; since, the raw body
// is mapped here, as intake mapped it.
bool read_lead(const store::JournaledLead& row, model::Lead& lead, std::string& error) {
  if (!row.stored_lead.empty()) return model::from_json(row.stored_lead, lead, error);
  return intake::map_journaled(row.format, row.raw, row.lead_id, row.source, row.received_at_ms, lead, error);
}

}  // namespace

PipelineWorker::PipelineWorker(store::Journal& journal, std::filesystem::path state_dir, Backlog& backlog,
                               std::shared_ptr<const routing::RouteTable> routes, const DedupConfig& dedup,
                               std::function<void()> on_deliveries,
                               std::shared_ptr<const validate::Validator> validator,
                               validate::MailDomainResolver* resolver)
    : journal_(journal),
      state_dir_(std::move(state_dir)),
      backlog_(backlog),
      dedup_(dedup),
      on_deliveries_(std::move(on_deliveries)),
      routes_(std::move(routes)),
      validator_(validator ? std::move(validator) : validate::Validator::defaults()),
      resolver_(resolver) {}

PipelineWorker::~PipelineWorker() { stop(); }

bool PipelineWorker::start(std::string& error) {
  store_ = store::Reader::open(state_dir_, error);
  if (!store_) return false;
  cursor_ = store_->pipeline_cursor();
  companies_indexed_ = store_->company_index_cursor();
  const auto [pending, bytes] = store_->pending_totals();
  backlog_.add(pending, bytes);
  const auto waiting = journal_.committed_seq() - cursor_;
  if (waiting > 0 || backlog_.count() > 0) {
    log::info("outbox_resumed", {{"leads_to_route", waiting}, {"deliveries_pending", backlog_.count()}});
  }
  thread_ = util::background_thread("lr-pipeline", [this] { run(); });
  return true;
}

void PipelineWorker::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
}

void PipelineWorker::set_routes(std::shared_ptr<const routing::RouteTable> routes) {
  std::lock_guard lock(routes_mutex_);
  routes_ = std::move(routes);
}

void PipelineWorker::set_validator(std::shared_ptr<const validate::Validator> validator) {
  std::lock_guard lock(routes_mutex_);
  validator_ = std::move(validator);
}

void PipelineWorker::set_lifecycle(const lifecycle::Windows& windows) {
  std::lock_guard lock(routes_mutex_);
  windows_ = windows;
}

void PipelineWorker::set_notifications(std::shared_ptr<const notify::NotifyConfig> notifications) {
  std::lock_guard lock(routes_mutex_);
  notifications_ = std::move(notifications);
}

void PipelineWorker::run() {
  int failures = 0;
  while (!stopping_.load()) {
    if (journal_.committed_seq() <= cursor_) {
      journal_.wait_committed_after(cursor_, std::chrono::milliseconds(200));
      continue;
    }
    const auto before = cursor_.load();
    if (process_batch()) {
      failures = 0;
      if (cursor_ == before) {
        // Nothing readable past the cursor yet: wait for the next commit instead of spinning.
        journal_.wait_committed_after(journal_.committed_seq(), std::chrono::milliseconds(50));
      } else if (on_deliveries_) {
        on_deliveries_();
      }
    } else {
      // The store refused the write (disk full): back off, then route the same leads again.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 100 << std::min(failures++, 6))));
    }
  }
}

bool PipelineWorker::process_batch() {
  std::shared_ptr<const routing::RouteTable> routes;
  std::shared_ptr<const validate::Validator> validator;
  lifecycle::Windows windows;
  std::shared_ptr<const notify::NotifyConfig> notifications;
  {
    std::lock_guard lock(routes_mutex_);
    routes = routes_;
    validator = validator_;
    windows = windows_;
    notifications = notifications_;
  }
  const auto now_ms = log::now_unix_ms();
  std::vector<Routed> batch;
  // Person-and-offer state: this batch's own updates first (a person may appear twice in one batch), then the
  // store. Looked up here so that the pipeline itself stays free of I/O.
  std::unordered_map<std::string, store::PersonRecord> seen;
  const auto prior_of = [&](const std::string& key, std::int64_t now) -> std::optional<store::PersonRecord> {
    if (key.empty() || dedup_.person_window.count() == 0) return std::nullopt;
    std::optional<store::PersonRecord> found;
    if (const auto it = seen.find(key); it != seen.end()) {
      found = it->second;
    } else {
      found = store_->person(key);
    }
    if (found && found->expires_ms <= now) return std::nullopt;  // the window has passed: a new first lead
    return found;
  };
  // The batch's reads share snapshots (its leads; then one person lookup per lead): one pair of WAL read-lock
  // system calls each instead of one per statement. None is open during the DNS lookups or once the batch's write
  // is queued, so that no reader holds the WAL while the writer wants to start it over.
  auto reading = store_->snapshot();
  std::vector<store::JournaledLead> rows;
  std::string read_error;
  if (!store_->next_to_route(cursor_, deep_backlog_ ? kBacklogBatch : kBatch, rows, read_error)) {
    log::warn("store_read_failed", {{"message", read_error}});
    return false;
  }
  // Deep behind (a burst, a restart): the bigger batch. A few hundred behind (a hiccup at a steady rate): the usual
  // one, as each lead of a batch waits for the whole of it to be routed and committed.
  const auto behind = rows.empty() ? 0 : journal_.committed_seq() - rows.back().seq;
  deep_backlog_ = behind >= kBacklogDepth;
  // First read the batch and look up the email domains it names (DNS, bounded by the resolver's deadline), so
  // that the pipeline itself does no I/O.
  std::vector<std::pair<std::int64_t, model::Lead>> leads;
  std::vector<validate::EmailFacts> emails;  // with DNS: each lead's email_facts, made once for both uses
  std::vector<std::string> domains;
  for (const auto& row : rows) {
    model::Lead lead;
    std::string error;
    const bool readable = read_lead(row, lead, error);
    const auto* format = row.stored_lead.empty() ? connectors::find_format(row.format) : nullptr;
    if (readable && format != nullptr && format->notice) {
      // A thin notification (a Partner Center referral event): the referral worker fetches what it names. The
      // event itself is the delivery's value; it becomes no lead of its own.
      Routed r;
      auto& rec = r.record;
      rec.seq = row.seq;
      rec.state = store::RoutingState::Routed;
      rec.outcome = "referral event: fetch queued";
      rec.lead_json = row.raw;
      rec.lead_id = row.lead_id;
      rec.source = row.source;
      rec.action = lead.lead_source_raw;
      rec.msg_key = lead.referral.id;
      rec.destinations.emplace_back(connectors::pc_referral::kFetchDestination);
      batch.push_back(std::move(r));
      continue;
    }
    if (!readable) {
      // Cannot happen for rows this program wrote; keep the row, mark it, and move on rather than stall.
      log::error("lead_unreadable", {{"seq", row.seq}, {"message", error}});
      Routed r;
      r.record.seq = row.seq;
      r.record.state = store::RoutingState::Unrouted;
      r.record.outcome = "unreadable";
      batch.push_back(std::move(r));
      continue;
    }
    if (resolver_ != nullptr) {
      auto& facts = emails.emplace_back(validator->email_facts(lead.contact.email));
      if (!facts.resolve.empty()) domains.push_back(facts.resolve);
    }
    leads.emplace_back(row.seq, std::move(lead));
  }
  rows.clear();
  reading.end();
  validate::MailDomains mail;
  if (resolver_ != nullptr && !domains.empty()) mail = resolver_->resolve(domains);

  auto lookups = store_->snapshot();
  for (std::size_t i = 0; i < leads.size(); ++i) {
    auto& [seq, lead] = leads[i];
    Routed r;
    auto& rec = r.record;
    rec.seq = seq;
    rec.person_key = pipeline::person_key(lead);
    const auto prior = prior_of(rec.person_key, lead.received_at_ms);
    pipeline::PriorLeads prior_leads;
    if (prior) prior_leads = {prior->first_lead_id, prior->occurrences, prior->actions};
    lead.hot = model::is_hot(lifecycle::initial(lead, windows), now_ms);
    const auto outcome = pipeline::run(*routes, lead, prior ? &prior_leads : nullptr, validator.get(),
                                       resolver_ != nullptr ? &mail : nullptr, emails.empty() ? nullptr : &emails[i]);
    r.email_verdict = lead.email_check.verdict;
    r.phone_verdict = lead.phone_check.verdict;
    r.quality = lead.quality;
    if (!rec.person_key.empty() && dedup_.person_window.count() > 0) {
      store::PersonRecord person;
      person.first_lead_id = prior ? prior->first_lead_id : lead.lead_id;
      person.occurrences = lead.occurrence;
      person.actions = lead.action_history;
      // The window runs from the first lead: the partner's 14 days to respond start then.
      person.expires_ms = prior ? prior->expires_ms : lead.received_at_ms + dedup_.person_window.count();
      seen[rec.person_key] = person;
      rec.person = std::move(person);
    }
    rec.lead_id = lead.lead_id;
    rec.source = lead.source_name;
    rec.action = lead.action.code;
    rec.test_lead = lead.test_lead;
    r.matched_rules = outcome.matched_rules;
    r.drop_rule = outcome.drop_rule;
    rec.lead_json = model::to_json(lead);
    rec.msg_key = pipeline::message_key(lead);
    rec.lifecycle = store::LifecycleRecord{lifecycle::initial(lead, windows),
                                           std::string(model::to_string(lead.action.call_to_action)),
                                           lead.contact.country,
                                           lead.contact.company,
                                           std::string(model::to_string(lead.origin)),
                                           std::string(model::to_string(lead.lead_type)),
                                           std::string(model::to_string(lead.classification)),
                                           lead.quality,
                                           lead.email_check.verdict,
                                           lead.phone_check.verdict,
                                           lead.referral.id,
                                           lead.offer.id,
                                           lead.program};
    // Who is told of it (nobody of a lead a rule dropped); the store decides at once or in the digest.
    if (notifications && outcome.kind != pipeline::Outcome::Kind::Dropped) {
      rec.notifications = notify::plan(*notifications, lead, rec.lifecycle->lifecycle, now_ms);
    }
    switch (outcome.kind) {
      case pipeline::Outcome::Kind::Routed:
        rec.state = store::RoutingState::Routed;
        rec.outcome = "routed";
        for (const auto& d : outcome.destinations) rec.destinations.push_back(d.id());
        break;
      case pipeline::Outcome::Kind::Dropped:
        rec.state = store::RoutingState::Dropped;
        rec.outcome = "dropped by rule '" + outcome.drop_rule + "': " + outcome.drop_reason;
        log::info("lead_dropped", {log::safe("lead_id", rec.lead_id), log::safe("rule", outcome.drop_rule),
                                   {"reason", outcome.drop_reason}});
        break;
      case pipeline::Outcome::Kind::Unrouted:
        rec.state = store::RoutingState::Unrouted;
        rec.outcome = "no rule matched";
        // With no routes at all this was said once at start; with routes, a lead slipping through is news.
        if (!routes->rules.empty()) {
          log::warn("lead_unrouted", {log::safe("lead_id", rec.lead_id),
                                      {"hint", "no route matched; add a default rule (one without 'when')"}});
        }
        break;
    }
    batch.push_back(std::move(r));
  }
  lookups.end();
  if (batch.empty()) return true;

  // Unreadable rows were set aside while reading: back into journal order, so the cursor is the last seq.
  std::sort(batch.begin(), batch.end(),
            [](const Routed& a, const Routed& b) { return a.record.seq < b.record.seq; });
  const auto last_seq = batch.back().record.seq;
  std::vector<store::RoutingRecord> records;
  records.reserve(batch.size());
  for (auto& r : batch) records.push_back(std::move(r.record));
  const auto& last_person = records.back().person;
  const auto prune_before = last_person && last_person->expires_ms > 0 ? log::now_unix_ms() : 0;
  // The customer filter's index takes companies in chunks (one segment each), not one per lead and commit.
  constexpr std::int64_t kCompanyChunk = 4096;
  const bool index = last_seq - companies_indexed_ >= kCompanyChunk ||
                     (last_seq > companies_indexed_ && now_ms - companies_indexed_at_ms_ >= 2000);
  store::DeliveryTotals added;
  if (!journal_.write([&](store::Transaction& tx, std::string& error) {
        added = {};
        return tx.record_routing(records, last_seq, error, &added) &&
               (prune_before == 0 || tx.prune_person_keys(prune_before, error)) &&
               (!index || tx.index_companies(last_seq, error));
      })) {
    return false;
  }
  if (index) {
    companies_indexed_ = last_seq;
    companies_indexed_at_ms_ = now_ms;
  }
  // Counted once the outcome is durable, so a retried batch is not counted twice.
  auto& metrics = metrics::Metrics::get();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& r = batch[i];
    const auto& rec = records[i];
    for (const auto& rule : r.matched_rules) metrics.route_matched(rule);
    if (rec.state == store::RoutingState::Dropped) metrics.lead_dropped(r.drop_rule);
    if (rec.state == store::RoutingState::Unrouted) metrics.lead_unrouted();
    if (rec.person && rec.person->occurrences > 1) metrics.lead_linked();
    if (!r.quality.empty()) metrics.verdicts(r.email_verdict, r.phone_verdict, r.quality);
  }
  backlog_.add(added.count, added.bytes);
  cursor_ = last_seq;
  return true;
}

}  // namespace leadrelay::outbox
