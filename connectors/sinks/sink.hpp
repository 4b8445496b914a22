#pragma once
// What every destination is handed and what it answers: records (key, headers, value, attempt), one result per
// record: delivered, retry (after at least a pause), or failed for good with the destination's words, as
// fluent-bit's OK/RETRY/ERROR. Sinks know nothing of the store: the outbox's workers read the deliveries, hand
// them over and record the results (daemon/outbox). Retrying, backoff, the circuit breaker and dead letters are
// the workers' job, not the sinks'. A Sink answers at once (CRMs, signed webhooks, files); an AsyncSink takes
// records now and answers later (Kafka's delivery reports).
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace leadrelay::connectors {

struct DeliveryItem {
  std::int64_t id = 0;    // the outbox delivery id: stable across retries
  std::string lead_id;
  std::string key;        // the message key: the contact's email, else phone, else the lead id
  std::vector<std::pair<std::string, std::string>> headers;  // lead-id, lead-schema, lead-source, ...
  std::string lead_json;  // the value: lead.v1, or lead-event.v1 when `event`
  bool event = false;     // a lifecycle change of the lead (CRMs update the record's status), not the lead
  int attempt = 0;        // 0 the first time, then one more per retry (since this process started)
  std::string topic;      // Kafka: the topic it goes to
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
  // Done, with something the lead's history must say (Partner Center refused a write-back as a conflict): a
  // lead-event.v1 document, stored with the acknowledgement and never published.
  std::string history{};
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

struct Completion {
  std::int64_t id = 0;  // the item's
  DeliveryResult result;
  std::size_t value_bytes = 0;  // the item's value size, so the caller keeps no table of what is in flight
};

class AsyncSink {
 public:
  virtual ~AsyncSink() = default;
  // Hands items over from the front and returns how many were taken (the rest once there is room again). Items
  // refused at once have their result in `completed`; the others' come from poll.
  virtual std::size_t submit(std::span<const DeliveryItem> items, std::vector<Completion>& completed) = 0;
  // Waits up to `wait` for results of items taken earlier; one result per item, appended to `completed`.
  virtual void poll(std::chrono::milliseconds wait, std::vector<Completion>& completed) = 0;
  // Items taken and not answered yet.
  virtual std::int64_t in_flight() const = 0;
};

}  // namespace leadrelay::connectors
