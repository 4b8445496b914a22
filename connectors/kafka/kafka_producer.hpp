#pragma once
// Kafka as an AsyncSink: an idempotent librdkafka producer (acks=all, messages never expire) that takes records
// (topic, key, value, headers) and answers each from its delivery report: delivered, or failed for good with the
// broker's reason (librdkafka retries transient errors itself, forever). It knows nothing of the store: the
// outbox's Kafka worker hands it pending deliveries and records the answers.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_config.hpp"
#include "connectors/sinks/sink.hpp"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace leadrelay::connectors::kafka {

class KafkaProducer final : public AsyncSink {
 public:
  // Messages taken and not yet answered at most: past it submit takes nothing until poll brings answers.
  static constexpr std::int64_t kMaxInFlight = 50000;

  KafkaProducer(const KafkaConfig& config, std::string bootstrap);
  ~KafkaProducer() override;
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  bool start(std::string& error);
  std::size_t submit(std::span<const DeliveryItem> items, std::vector<Completion>& completed) override;
  void poll(std::chrono::milliseconds wait, std::vector<Completion>& completed) override;
  std::int64_t in_flight() const override { return in_flight_; }
  // Messages in librdkafka's queues.
  std::int64_t queue_length() const;

  // librdkafka's callbacks (public for the C trampolines).
  void on_delivery(const rd_kafka_message_s* message);
  void on_error(int code, const char* reason);
  void on_stats(std::string_view json);

 private:
  KafkaConfig config_;
  std::string bootstrap_;
  rd_kafka_s* producer_ = nullptr;
  std::int64_t in_flight_ = 0;
  std::vector<Completion>* completed_ = nullptr;  // where delivery reports go during poll
  std::map<std::string, std::int64_t> reported_retries_;  // per topic, at the last statistics report
  bool broker_down_logged_ = false;
};

}  // namespace leadrelay::connectors::kafka
