#include "daemon/outbox/delivery_worker.hpp"

#include "daemon/outbox/outbox_records.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::outbox {

DeliveryWorker::DeliveryWorker(store::Journal& journal, std::filesystem::path state_dir, Backlog& backlog,
                               connectors::SinkConfig config, std::unique_ptr<connectors::Sink> sink,
                               std::string destination)
    : journal_(journal),
      state_dir_(std::move(state_dir)),
      backlog_(backlog),
      config_(std::move(config)),
      destination_(destination.empty() ? "sink:" + config_.name : std::move(destination)),
      sink_(std::move(sink)) {}

DeliveryWorker::~DeliveryWorker() { stop(); }

bool DeliveryWorker::start(std::string& error) {
  store_ = store::Reader::open(state_dir_, error);
  if (!store_) return false;
  metrics::Metrics::get().sink_circuit(config_.name, false);
  thread_ = util::background_thread("lr-deliver", [this] { run(); });
  return true;
}

void DeliveryWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    work_ = true;
  }
  wake_.notify_one();
}

void DeliveryWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool DeliveryWorker::pause_for(std::chrono::milliseconds pause) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, pause, [&] { return stopping_.load(); });
  return !stopping_.load();
}

void DeliveryWorker::run() {
  log::info("sink_started", {log::safe("sink", config_.name), log::safe("type", config_.type)});
  while (!stopping_.load()) {
    std::vector<store::PendingDelivery> rows;
    std::string error;
    if (!store_->pending_deliveries(destination_, cursor_, 200, rows, error)) {
      log::warn("store_read_failed", {log::safe("sink", config_.name), {"message", error}});
      if (!pause_for(std::chrono::milliseconds(1000))) break;
      continue;
    }
    const auto batch = std::max<std::size_t>(1, sink_->max_batch());
    for (std::size_t start = 0; start < rows.size(); start += batch) {
      std::vector<connectors::DeliveryItem> items;
      std::vector<std::int64_t> bytes;
      for (auto i = start; i < std::min(rows.size(), start + batch); ++i) {
        bytes.push_back(rows[i].bytes);
        items.push_back(to_item(std::move(rows[i])));
      }
      const auto last = items.back().id;
      if (!deliver(std::move(items), std::move(bytes))) break;
      cursor_ = last;
    }
    flush_acks();
    if (rows.empty()) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return work_ || stopping_.load(); });
      work_ = false;
    }
  }
  flush_acks();
}

bool DeliveryWorker::deliver(std::vector<connectors::DeliveryItem> items, std::vector<std::int64_t> bytes) {
  auto& metrics = metrics::Metrics::get();
  using Status = connectors::DeliveryResult::Status;
  for (int attempt = 0; !stopping_.load(); ++attempt) {
    const auto results = sink_->deliver_batch(items);
    std::vector<connectors::DeliveryItem> again;
    std::vector<std::int64_t> again_bytes;
    const connectors::DeliveryResult* failure = nullptr;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      const auto& result = i < results.size() ? results[i] : results.back();
      if (result.status == Status::Ok) {
        metrics.delivery(destination_, true);
        // An erasure's delivery keyed with the person's email (HubSpot's delete): the key leaves the store now.
        const bool clear_key = item.event && item.key != item.lead_id &&
                               item.lead_json.find(R"("action":"erase")") != std::string::npos;
        acks_.push_back({item.id, bytes[i], {}, result.history, clear_key});
        if (clear_key) erased_keys_ = true;
      } else if (result.status == Status::Permanent) {
        metrics.delivery(destination_, false);
        metrics.dead_lettered(destination_);
        acks_.push_back({item.id, bytes[i], result.message.empty() ? "refused" : result.message});
        flush_acks();  // stored before it is announced: `leadrelay dlq list` shows what the log said
        log::error("sink_dead_letter", {log::safe("sink", config_.name), log::safe("lead_id", item.lead_id),
                                        {"delivery", item.id}, {"message", result.message},
                                        {"hint", "see it with: leadrelay dlq show --id " + std::to_string(item.id) +
                                                     "; after fixing the cause: leadrelay dlq replay --sink " +
                                                     config_.name}});
      } else {
        again.push_back(item);
        again_bytes.push_back(bytes[i]);
        if (failure == nullptr) failure = &result;
      }
    }
    if (failure == nullptr) {
      if (consecutive_failures_ >= config_.retry.breaker_failures) {
        metrics.sink_circuit(config_.name, false);
        log::info("sink_circuit_closed", {log::safe("sink", config_.name)});
      }
      consecutive_failures_ = 0;
      if (acks_.size() >= 64) flush_acks();
      return true;
    }
    // Transient: back off exponentially with jitter, never shorter than the destination asked for.
    ++consecutive_failures_;
    metrics.delivery_retries(destination_, static_cast<std::int64_t>(again.size()));
    flush_acks();
    const auto ceiling = config_.retry.max_backoff.count();
    const auto base = std::min<std::int64_t>(ceiling, config_.retry.initial_backoff.count() << std::min(attempt, 20));
    std::uniform_int_distribution<std::int64_t> jitter(base / 2, base);
    auto wait = std::chrono::milliseconds(std::max<std::int64_t>(jitter(random_), failure->retry_after.count()));
    if (consecutive_failures_ == config_.retry.breaker_failures) {
      log::warn("sink_circuit_open", {log::safe("sink", config_.name), {"failures", consecutive_failures_},
                                      {"message", failure->message},
                                      {"hint", "leads wait in the outbox; one trial delivery after the cool-down"}});
      metrics.sink_circuit(config_.name, true);
    }
    if (consecutive_failures_ >= config_.retry.breaker_failures) wait = std::max(wait, config_.retry.breaker_cooldown);
    log::warn("sink_retry", {log::safe("sink", config_.name), log::safe("lead_id", again.front().lead_id),
                             {"deliveries", static_cast<std::int64_t>(again.size())}, {"attempt", attempt + 1},
                             {"retry_in_ms", static_cast<std::int64_t>(wait.count())}, {"message", failure->message}});
    if (!pause_for(wait)) return false;
    for (auto& item : again) ++item.attempt;
    items = std::move(again);
    bytes = std::move(again_bytes);
  }
  return false;
}

void DeliveryWorker::flush_acks() {
  if (acks_.empty()) return;
  const auto count = static_cast<std::int64_t>(acks_.size());
  if (!record_acks(journal_, backlog_, std::move(acks_)).get()) {
    log::warn("outbox_ack_not_stored", {log::safe("sink", config_.name), {"deliveries", count},
                                        {"hint", "they will be delivered again after a restart"}});
  }
  acks_.clear();
  if (erased_keys_) {
    erased_keys_ = false;
    journal_.truncate_wal([](bool) {});  // the old pages with the key fold away
  }
}

}  // namespace leadrelay::outbox
