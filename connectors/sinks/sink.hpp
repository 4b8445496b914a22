#pragma once
// One interface for every destination that is not Kafka (CRMs, signed webhooks, files): the outbox's delivery
// worker hands a sink one lead at a time, blocking, and the sink says how it went. Retrying, backoff, the
// circuit breaker and dead letters are the worker's job (daemon/outbox/delivery_worker), not the sink's.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace leadrelay::connectors {

struct DeliveryItem {
  std::int64_t id = 0;    // the outbox delivery id: stable across retries
  std::string lead_id;
  std::string lead_json;  // lead.v1
};

struct DeliveryResult {
  enum class Status {
    Ok,         // the destination has it
    Retry,      // a transient failure (timeout, 5xx, throttling): the same lead again later
    Permanent,  // the destination refused this lead for good (validation error): a dead letter
  };
  Status status = Status::Ok;
  std::string message;                        // for logs and dead letters: the destination's own words
  std::chrono::milliseconds retry_after{0};   // the destination asked for at least this pause
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual DeliveryResult deliver(const DeliveryItem& item) = 0;
  // Sinks whose API takes several records per request (Salesforce sObject collections) say how many, and
  // answer one result per item, in order. The default sends them one by one.
  virtual std::size_t max_batch() const { return 1; }
  virtual std::vector<DeliveryResult> deliver_batch(std::span<const DeliveryItem> items) {
    std::vector<DeliveryResult> out;
    for (const auto& item : items) out.push_back(deliver(item));
    return out;
  }
};

}  // namespace leadrelay::connectors
