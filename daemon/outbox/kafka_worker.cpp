#include "daemon/outbox/kafka_worker.hpp"

#include <algorithm>

#include "daemon/log/log.hpp"
#include "daemon/outbox/outbox_records.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::outbox {

KafkaWorker::KafkaWorker(std::unique_ptr<connectors::kafka::KafkaProducer> producer, store::Journal& journal,
                         std::filesystem::path state_dir, Backlog& backlog)
    : producer_(std::move(producer)), journal_(journal), state_dir_(std::move(state_dir)), backlog_(backlog) {}

KafkaWorker::~KafkaWorker() { stop(std::chrono::milliseconds(0)); }

bool KafkaWorker::start(std::string& error) {
  if (!producer_->start(error)) return false;
  store_ = store::Reader::open(state_dir_, error);
  if (!store_) return false;
  thread_ = util::background_thread("lr-kafka", [this] { run(); });
  return true;
}

void KafkaWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    work_ = true;
  }
  wake_.notify_one();
}

void KafkaWorker::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
    grace_ = grace;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void KafkaWorker::take(std::vector<connectors::Completion>& completed) {
  for (auto& c : completed) {
    // The outbox counts a delivery's bytes as its lead.v1 value's size (store::Transaction::record_routing).
    const auto bytes = static_cast<std::int64_t>(c.value_bytes);
    // Kafka's answers are delivered or failed for good (librdkafka retries the rest itself).
    const bool ok = c.result.status == connectors::DeliveryResult::Status::Ok;
    acks_.push_back({c.id, bytes, ok ? std::string() : (c.result.message.empty() ? "refused" : c.result.message)});
  }
  completed.clear();
}

std::size_t KafkaWorker::produce_batch() {
  // At most what the producer still has room for: poll first when it has none.
  const auto room = std::min<std::int64_t>(1000, connectors::kafka::KafkaProducer::kMaxInFlight - producer_->in_flight());
  if (room <= 0) return 0;
  std::vector<store::PendingDelivery> rows;
  std::string error;
  if (!store_->pending_kafka_deliveries(cursor_, static_cast<int>(room), rows, error)) {
    log::warn("store_read_failed", {{"message", error}});
    return 0;
  }
  std::vector<connectors::DeliveryItem> items;
  items.reserve(rows.size());
  for (auto& row : rows) items.push_back(to_item(std::move(row)));
  // What the producer does not take (its queue is full) is read again from the store after a poll.
  const auto taken = producer_->submit(items, completed_);
  if (taken > 0) cursor_ = items[taken - 1].id;
  take(completed_);
  return taken;
}

void KafkaWorker::flush_acks(bool wait) {
  if (acks_.empty()) return;
  const auto count = static_cast<std::int64_t>(acks_.size());
  auto stored = record_acks(journal_, backlog_, std::move(acks_));
  acks_.clear();
  last_ack_flush_ = std::chrono::steady_clock::now();
  if (wait && !stored.get()) {
    log::warn("outbox_ack_not_stored",
              {{"deliveries", count}, {"hint", "they will be published again after a restart"}});
  }
}

void KafkaWorker::run() {
  while (!stopping_.load()) {
    const auto produced = produce_batch();
    producer_->poll(std::chrono::milliseconds(produced > 0 ? 0 : 10), completed_);
    take(completed_);
    if (!acks_.empty() &&
        (acks_.size() >= 512 || std::chrono::steady_clock::now() - last_ack_flush_ > std::chrono::milliseconds(2))) {
      flush_acks(false);
    }
    if (produced == 0 && producer_->in_flight() == 0 && acks_.empty()) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(100), [&] { return work_ || stopping_.load(); });
      work_ = false;
    }
  }
  // Give messages in flight the grace to be acknowledged, and record what was.
  const auto deadline = std::chrono::steady_clock::now() + grace_;
  while (producer_->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    producer_->poll(std::chrono::milliseconds(10), completed_);
    take(completed_);
  }
  flush_acks(true);
  if (producer_->in_flight() > 0) {
    log::warn("kafka_unacknowledged_at_stop",
              {{"messages", producer_->in_flight()}, {"hint", "kept in the outbox; published again at the next start"}});
  }
}

}  // namespace leadrelay::outbox
