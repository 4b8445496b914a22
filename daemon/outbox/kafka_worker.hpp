#pragma once
// Publishes the outbox's Kafka deliveries, on its own thread: reads pending deliveries from the store, hands them
// to the producer (connectors/kafka) as records, and records each answer (delivered, or failed for good) through
// the journal writer. On start it sends every delivery still pending, so a crash between publishing and recording
// the acknowledgement can repeat a message (at-least-once); it never loses one.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "connectors/kafka/kafka_producer.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::outbox {

class KafkaWorker {
 public:
  KafkaWorker(std::unique_ptr<connectors::kafka::KafkaProducer> producer, store::Journal& journal,
              std::filesystem::path state_dir, Backlog& backlog);
  ~KafkaWorker();

  bool start(std::string& error);
  // New deliveries may be waiting.
  void notify();
  // Waits up to `grace` for messages in flight to be acknowledged, records what was, then stops.
  void stop(std::chrono::milliseconds grace);
  // Messages handed to librdkafka and not yet acknowledged.
  std::int64_t queue_length() const { return producer_->queue_length(); }

 private:
  void run();
  std::size_t produce_batch();
  void take(std::vector<connectors::Completion>& completed);
  void flush_acks(bool wait);

  std::unique_ptr<connectors::kafka::KafkaProducer> producer_;
  store::Journal& journal_;
  std::filesystem::path state_dir_;
  Backlog& backlog_;
  std::unique_ptr<store::Reader> store_;
  std::int64_t cursor_ = 0;  // highest delivery id handed to the producer
  std::vector<connectors::Completion> completed_;
  std::vector<store::DeliveryAck> acks_;
  std::chrono::steady_clock::time_point last_ack_flush_{};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool work_ = true;
  std::atomic<bool> stopping_{false};
  std::chrono::milliseconds grace_{0};
  std::thread thread_;
};

}  // namespace leadrelay::outbox
