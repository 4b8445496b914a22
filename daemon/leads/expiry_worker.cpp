#include "daemon/leads/expiry_worker.hpp"

#include <algorithm>
#include <limits>

#include "daemon/log/log.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::leads {
using namespace lifecycle;  // the rules this room applies
namespace {
constexpr std::int64_t kMaxSleepMs = 60000;
constexpr std::string_view kActor = "leadrelay";
constexpr int kBatch = 500;
}  // namespace

ExpiryWorker::ExpiryWorker(Changes& changes, std::filesystem::path state_dir,
                           std::chrono::milliseconds response_window)
    : changes_(changes),
      state_dir_(std::move(state_dir)),
      max_sleep_ms_(std::clamp<std::int64_t>(response_window.count(), 100, kMaxSleepMs)) {}

ExpiryWorker::~ExpiryWorker() { stop(); }

bool ExpiryWorker::start(std::string& error) {
  store_ = store::Reader::open(state_dir_, error);
  if (!store_) return false;
  const auto before = expired_.load();
  expire_due();
  if (expired_.load() > before) log::info("leads_expired_at_start", {{"leads", expired_.load() - before}});
  thread_ = util::background_thread("lr-expiry", [this] { run(); });
  return true;
}

void ExpiryWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::int64_t ExpiryWorker::expire_due() {
  for (;;) {
    const auto now = log::now_unix_ms();
    std::vector<store::LeadRow> due;
    std::string error;
    {
      auto snapshot = store_->snapshot();
      if (!store_->waiting_leads(now, kBatch, due, error)) {
        log::warn("store_read_failed", {{"message", error}});
        return now + 5000;
      }
    }
    if (due.empty()) break;
    // A batch per transaction: after a long stop, thousands may be due at once.
    std::vector<std::string> ids;
    for (const auto& row : due) ids.push_back(row.lead_id);
    ChangeRequest expire;
    expire.action = Action::Expire;
    for (const auto& outcome : changes_.change_all(ids, expire, std::nullopt, kActor, now)) {
      if (outcome.kind == ChangeOutcome::Kind::Applied) expired_.fetch_add(1);
      if (outcome.kind == ChangeOutcome::Kind::Unavailable) return now + 5000;  // the store refuses writes: later
    }
    if (due.size() < static_cast<std::size_t>(kBatch)) break;
  }
  std::vector<store::LeadRow> next;
  std::string error;
  store_->waiting_leads(std::numeric_limits<std::int64_t>::max(), 1, next, error);
  return next.empty() ? 0 : next.front().lifecycle.expires_at_ms;
}

void ExpiryWorker::run() {
  for (;;) {
    const auto next = expire_due();
    const auto now = log::now_unix_ms();
    const auto wait = next == 0 ? max_sleep_ms_ : std::clamp<std::int64_t>(next - now, 0, max_sleep_ms_);
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stopping_; })) return;
  }
}

}  // namespace leadrelay::leads
