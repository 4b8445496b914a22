#include "daemon/notify/notify_worker.hpp"

#include <algorithm>

#include "daemon/log/log.hpp"
#include "daemon/notify/document.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::notify {
namespace {

constexpr std::int64_t kLookEveryMs = 60000;

const NotifyRule* find_rule(const NotifyConfig& c, std::string_view name) {
  for (const auto& r : c.rules) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// The stored leads as documents see them; one that cannot be read is left out (and logged).
void to_states(const std::vector<store::LeadRow>& rows, std::vector<LeadState>& out) {
  for (const auto& row : rows) {
    LeadState s;
    std::string error;
    if (!model::from_json(row.lead_json, s.lead, error)) {
      log::warn("notification_lead_unreadable", {log::safe("lead_id", row.lead_id), {"message", error}});
      continue;
    }
    s.lifecycle = row.lifecycle;
    out.push_back(std::move(s));
  }
}

}  // namespace

NotifyWorker::NotifyWorker(store::Journal& journal, std::filesystem::path state_dir,
                           std::shared_ptr<const NotifyConfig> config,
                           std::function<void(const store::DeliveryTotals&)> on_added)
    : journal_(journal), state_dir_(std::move(state_dir)), on_added_(std::move(on_added)), config_(std::move(config)) {}

NotifyWorker::~NotifyWorker() { stop(); }

bool NotifyWorker::start(std::string& error) {
  store_ = store::Reader::open(state_dir_, error);
  if (!store_) return false;
  thread_ = util::background_thread("lr-notify", [this] { run(); });
  return true;
}

void NotifyWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void NotifyWorker::set_config(std::shared_ptr<const NotifyConfig> config) {
  {
    std::lock_guard lock(mutex_);
    config_ = std::move(config);
  }
  wake_.notify_one();
}

void NotifyWorker::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto now = log::now_unix_ms();
    const auto next = pass(now);
    lock.lock();
    const auto wait = std::clamp<std::int64_t>(next - log::now_unix_ms(), 10, kLookEveryMs);
    wake_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stopping_; });
  }
}

std::int64_t NotifyWorker::pass(std::int64_t now_ms) {
  std::shared_ptr<const NotifyConfig> config;
  {
    std::lock_guard lock(mutex_);
    config = config_;
  }
  if (!config || !config->configured || !config->zone) return now_ms + kLookEveryMs;
  const auto next = digests(*config, now_ms);
  warnings(*config, now_ms);
  return next;
}

std::int64_t NotifyWorker::digests(const NotifyConfig& c, std::int64_t now_ms) {
  std::int64_t next = now_ms + kLookEveryMs;
  std::vector<store::HeldDay> days;
  std::string error;
  if (!store_->held_days(days, error)) {
    log::warn("store_read_failed", {{"message", error}});
    return next;
  }
  for (const auto& day : days) {
    const auto* rule = find_rule(c, day.rule);
    // A rule that was removed or no longer digests lets its held leads go at once, to nobody.
    const bool sends = rule != nullptr && rule->digest;
    const auto due = sends ? c.zone->at(day.day, 1, c.digest_at_minutes) : now_ms;
    if (due > now_ms) {
      next = std::min(next, due);
      continue;
    }
    std::vector<store::LeadRow> held;
    std::vector<store::LeadRow> unanswered;
    if (!store_->held_leads(day, held, error) ||
        (sends && c.digest_waiting > 0 && !store_->unanswered_leads(day.rule, c.digest_waiting, unanswered, error))) {
      log::warn("store_read_failed", {{"message", error}});
      return next;
    }
    if (held.empty()) continue;
    store::Notification n;
    n.key = "digest|" + day.rule + "|" + day.day;
    n.kind = "digest";
    n.rule = day.rule;
    n.day = day.day;
    n.lead_seq = held.back().seq;
    if (sends) {
      std::vector<LeadState> leads;
      std::vector<LeadState> waiting;
      to_states(held, leads);
      to_states(unanswered, waiting);
      n.document = digest_document(c, *rule, day.day, leads, waiting, now_ms);
      n.destinations = rule->destinations;
    }
    const auto count = static_cast<std::int64_t>(held.size());
    if (record({std::move(n)})) {
      log::info("notification_digest", {log::safe("rule", day.rule), log::safe("day", day.day), {"leads", count},
                                        {"sent", sends}});
    }
  }
  return next;
}

void NotifyWorker::warnings(const NotifyConfig& c, std::int64_t now_ms) {
  std::vector<std::pair<store::LeadRow, std::vector<std::string>>> due;
  std::string error;
  if (!store_->expiry_warnings_due(now_ms, now_ms + c.warn_before.count(), 200, due, error)) {
    log::warn("store_read_failed", {{"message", error}});
    return;
  }
  std::vector<store::Notification> batch;
  for (const auto& [row, rules] : due) {
    LeadState state;
    if (!model::from_json(row.lead_json, state.lead, error)) continue;
    state.lifecycle = row.lifecycle;
    for (const auto& name : rules) {
      const auto* rule = find_rule(c, name);
      store::Notification n;
      n.key = "expiring|" + name + "|" + row.lead_id;
      n.kind = "expiring";
      n.rule = name;
      n.day = c.zone->day(now_ms);
      n.lead_seq = row.seq;
      // A rule that does not warn still gets the row, sent nowhere, so the lead is not looked at again.
      if (rule != nullptr && rule->expiring) {
        n.document = lead_document(c, *rule, state, now_ms);
        n.destinations = rule->destinations;
      }
      batch.push_back(std::move(n));
    }
  }
  const auto count = static_cast<std::int64_t>(batch.size());
  if (!batch.empty() && record(std::move(batch))) log::info("notification_expiry_warnings", {{"rules_and_leads", count}});
}

bool NotifyWorker::record(std::vector<store::Notification> batch) {
  store::DeliveryTotals added;
  const auto now = log::now_unix_ms();
  const bool ok = journal_.write([&](store::Transaction& tx, std::string& error) {
    added = {};
    for (const auto& n : batch) {
      bool created = false;
      if (!tx.record_notification(n, now, created, added, error)) return false;
    }
    return true;
  });
  if (!ok) {
    log::warn("notification_not_stored", {{"hint", "tried again at the next pass"}});
    return false;
  }
  if (added.count > 0 && on_added_) on_added_(added);
  return true;
}

}  // namespace leadrelay::notify
