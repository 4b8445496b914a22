#pragma once
// Publishes pending Kafka deliveries from the outbox with an idempotent librdkafka producer (acks=all, messages
// never expire) and marks each delivered only from its delivery report. On start it sends every delivery still
// pending, so a crash between publishing and recording the acknowledgement can repeat a message (at-least-once);
// it never loses one.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "connectors/kafka/kafka_config.hpp"
#include "daemon/journal/journal.hpp"
#include "daemon/outbox/delivery_acks.hpp"
#include "daemon/outbox/backlog.hpp"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace leadrelay::connectors::kafka {

class KafkaSink {
 public:
  KafkaSink(const KafkaConfig& config, std::string bootstrap, journal::Journal& journal,
            std::filesystem::path database, outbox::Backlog& backlog);
  ~KafkaSink();

  bool start(std::string& error);
  // New deliveries may be waiting.
  void notify();
  // Waits up to `grace` for messages in flight to be acknowledged, records what was, then stops.
  void stop(std::chrono::milliseconds grace);

  // Messages handed to librdkafka and not yet acknowledged.
  std::int64_t queue_length() const;

  // librdkafka's callbacks (public for the C trampolines).
  void on_delivery(const rd_kafka_message_s* message);
  void on_error(int code, const char* reason);
  void on_stats(std::string_view json);

 private:
  std::map<std::string, std::int64_t> reported_retries_;  // per topic, at the last statistics report
  void run();
  std::size_t produce_batch();
  void flush_acks(bool wait);

  KafkaConfig config_;
  std::string bootstrap_;
  journal::Journal& journal_;
  std::filesystem::path database_;
  outbox::Backlog& backlog_;
  rd_kafka_s* producer_ = nullptr;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* pending_ = nullptr;  // the next pending deliveries, prepared once
  std::int64_t cursor_ = 0;  // highest delivery id handed to librdkafka
  std::int64_t in_flight_ = 0;
  std::vector<outbox::DeliveryAck> acks_;
  std::chrono::steady_clock::time_point last_ack_flush_{};
  bool broker_down_logged_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool work_ = true;
  std::atomic<bool> stopping_{false};
  std::chrono::milliseconds grace_{0};
  std::thread thread_;
};

}  // namespace leadrelay::connectors::kafka
