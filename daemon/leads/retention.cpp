#include "daemon/leads/retention.hpp"

#include <future>

#include "daemon/log/log.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::leads {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr std::int64_t kDayMs = 86400000;
constexpr KeySpec kKeys[] = {
    {"contact_data", KeyType::Duration, "400d",
     "a lead's contact data (name, email, phone, title, message) is removed this long after it arrived; 0 keeps it",
     false, 0, 100 * 365 * kDayMs},
    {"informational_leads", KeyType::Duration, "180d",
     "the same for leads that need no answer (Get it now, free trial, test drive); 0: as contact_data", false, 0,
     100 * 365 * kDayMs},
    {"leads", KeyType::Duration, "0s", "whole leads are deleted this long after they arrived; 0 keeps them (anonymous)",
     false, 0, 100 * 365 * kDayMs},
    {"check_every", KeyType::Duration, "10m", "how often the background pass looks for leads past their time", false,
     1000, kDayMs},
    {"batch", KeyType::Integer, "5",
     "leads per transaction (small: intake's commits wait for each; larger prunes faster, at intake's p99)", false, 1,
     5000},
};

// A pause between transactions, so that intake's commits go in between and the pass takes at most a fifth of the
// writer's time: at least 20 ms, and four times as long as the last transaction took.
constexpr std::chrono::milliseconds kBetweenBatches{20};
std::chrono::milliseconds pause_after(std::chrono::steady_clock::duration took) {
  return std::max(kBetweenBatches, std::chrono::duration_cast<std::chrono::milliseconds>(took * 4));
}
}  // namespace

std::span<const KeySpec> retention_keys() { return kKeys; }

RetentionConfig parse_retention_config(config::MapReader& r) {
  RetentionConfig c;
  c.contact_data = r.duration("contact_data");
  c.informational_leads = r.duration("informational_leads");
  c.leads = r.duration("leads");
  c.check_every = r.duration("check_every");
  c.batch = static_cast<int>(r.integer("batch"));
  if (c.leads.count() > 0 && c.contact_data.count() > c.leads.count()) {
    r.error("leads", "deleting whole leads before their contact data is due makes contact_data moot; make leads "
                     "at least as long as contact_data");
  }
  return c;
}

RetentionWorker::RetentionWorker(store::Journal& journal, outbox::Backlog& backlog, std::filesystem::path state_dir,
                                 RetentionConfig config)
    : journal_(journal), backlog_(backlog), state_dir_(std::move(state_dir)), config_(config) {}

RetentionWorker::~RetentionWorker() { stop(); }

bool RetentionWorker::start(std::string& error) {
  store_ = store::Reader::open(state_dir_, error);
  if (!store_) return false;
  thread_ = util::background_thread("lr-retention", [this] { run(); });
  return true;
}

void RetentionWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionWorker::set_config(const RetentionConfig& config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

bool RetentionWorker::pause(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, how_long, [this] { return stopping_; });
}

void RetentionWorker::run() {
  for (;;) {
    pass();
    RetentionConfig c;
    {
      std::lock_guard lock(mutex_);
      c = config_;
    }
    if (!pause(c.check_every)) return;
  }
}

void RetentionWorker::pass() {
  RetentionConfig c;
  {
    std::lock_guard lock(mutex_);
    c = config_;
  }
  const auto now = log::now_unix_ms();
  std::int64_t cleared = 0;
  std::int64_t deleted = 0;
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    const int n = clear_batch(c, now);
    if (n <= 0) break;
    cleared += n;
    if (!pause(pause_after(std::chrono::steady_clock::now() - started))) return;
  }
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    const int n = delete_batch(c, now);
    if (n <= 0) break;
    deleted += n;
    if (!pause(pause_after(std::chrono::steady_clock::now() - started))) return;
  }
  if (cleared > 0 || deleted > 0) {
    log::info("retention_pruned", {{"contact_data_removed", cleared}, {"leads_deleted", deleted}});
    // The removed bytes may sit in WAL frames: fold them in (zeroed there by secure_delete) and truncate.
    journal_.truncate_wal([](bool) {});
  }
  std::int64_t waiting = 0;
  std::string error;
  const auto cutoff = std::min(c.contact_data.count() > 0 ? now - c.contact_data.count() : 0,
                               c.informational_leads.count() > 0 ? now - c.informational_leads.count() : 0);
  if (cutoff > 0 && store_->retention_waiting(cutoff, waiting, error) && waiting > 0) {
    log::info("retention_deferred",
              {{"leads", waiting},
               {"hint", "past their retention but still waiting for an answer (Received) or a destination (pending "
                        "delivery): pruned once that is done"}});
  }
}

int RetentionWorker::clear_batch(const RetentionConfig& c, std::int64_t now_ms) {
  if (c.contact_data.count() == 0 && c.informational_leads.count() == 0) return 0;
  const auto informational = c.informational_leads.count() > 0 ? c.informational_leads : c.contact_data;
  const std::int64_t answer_before = c.contact_data.count() > 0 ? now_ms - c.contact_data.count() : 0;
  const std::int64_t info_before = informational.count() > 0 ? now_ms - informational.count() : 0;
  std::vector<store::LeadRow> due;
  std::string error;
  if (!store_->retention_due(answer_before, info_before, c.batch, due, error)) {
    log::warn("store_read_failed", {{"message", error}});
    return -1;
  }
  if (due.empty()) return 0;
  store::DeliveryTotals cancelled;
  const bool ok = journal_.write([&](store::Transaction& tx, std::string& e) {
    cancelled = {};
    // Keys expired by now go first (a slice each): those of leads this old are past their windows, so the leads
    // themselves need not look through the keys (which have no index by lead).
    if (!tx.prune_replay_keys(now_ms, e) || !tx.prune_person_keys(now_ms, e)) return false;
    for (const auto& row : due) {
      const auto prefix = row.msg_key == row.lead_id ? std::string() : row.msg_key + "|";
      if (!tx.remove_contact_data(row.seq, row.lead_id, prefix, now_ms, cancelled, e, false)) return false;
    }
    return true;
  });
  if (!ok) return -1;
  backlog_.remove(cancelled.count, cancelled.bytes);
  cleared_.fetch_add(static_cast<std::int64_t>(due.size()));
  return static_cast<int>(due.size());
}

int RetentionWorker::delete_batch(const RetentionConfig& c, std::int64_t now_ms) {
  if (c.leads.count() == 0) return 0;
  std::vector<std::int64_t> due;
  std::string error;
  if (!store_->deletion_due(now_ms - c.leads.count(), c.batch, due, error)) {
    log::warn("store_read_failed", {{"message", error}});
    return -1;
  }
  if (due.empty()) return 0;
  const bool ok = journal_.write([&](store::Transaction& tx, std::string& e) {
    for (const auto seq : due) {
      if (!tx.delete_lead(seq, e)) return false;
    }
    return true;
  });
  if (!ok) return -1;
  deleted_.fetch_add(static_cast<std::int64_t>(due.size()));
  return static_cast<int>(due.size());
}

}  // namespace leadrelay::leads
