#pragma once
// Delivers the outbox's leads for one sink (sinks[]: CRM, webhook, file), in order, on its own thread: a
// transient failure is retried with exponential backoff and jitter (at least as long as the destination's
// Retry-After), until it succeeds; consecutive failures open a circuit breaker that pauses the sink for its
// cool-down before one trial delivery; a permanent refusal makes the delivery a dead letter, kept in the store
// with the destination's message for `leadrelay dlq`.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "connectors/sinks/sink.hpp"
#include "connectors/sinks/sink_config.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::outbox {

class DeliveryWorker {
 public:
  // `destination`: the outbox destination it delivers ("sink:<name>" unless given, e.g. "notify:email").
  DeliveryWorker(store::Journal& journal, std::filesystem::path state_dir, Backlog& backlog,
                 connectors::SinkConfig config, std::unique_ptr<connectors::Sink> sink, std::string destination = {});
  ~DeliveryWorker();

  bool start(std::string& error);
  // New deliveries may be waiting.
  void notify();
  void stop();

 private:
  void run();
  // Delivers items (one, or a batch for sinks that take several per request), retrying those that failed
  // transiently until each is delivered or dead-lettered; false when the worker stops first.
  bool deliver(std::vector<connectors::DeliveryItem> items, std::vector<std::int64_t> bytes);
  // Sleeps up to `pause`, waking early on stop; false when stopping.
  bool pause_for(std::chrono::milliseconds pause);
  void flush_acks();

  store::Journal& journal_;
  std::filesystem::path state_dir_;
  Backlog& backlog_;
  connectors::SinkConfig config_;
  std::string destination_;  // "sink:<name>", "notify:<channel>"
  std::unique_ptr<connectors::Sink> sink_;
  std::unique_ptr<store::Reader> store_;
  std::int64_t cursor_ = 0;
  std::vector<store::DeliveryAck> acks_;
  int consecutive_failures_ = 0;
  bool erased_keys_ = false;  // acknowledged erasures whose key was an email: truncate the WAL after they are stored
  std::mt19937_64 random_{std::random_device{}()};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool work_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace leadrelay::outbox
