#pragma once
// What is waiting for delivery, counted in memory (seeded from the store at start) so that intake can push back
// with 503 before the disk fills, without a query per request. Leads journaled but not yet routed count too:
// routing may fall behind intake (it yields the CPU to it), and that lag must not grow without bound either.
#include <atomic>
#include <cstdint>
#include <functional>

#include "daemon/outbox/outbox_config.hpp"

namespace leadrelay::outbox {

class Backlog {
 public:
  explicit Backlog(const OutboxConfig& config) : max_count_(config.max_backlog), max_bytes_(config.max_backlog_bytes) {}

  void add(std::int64_t count, std::int64_t bytes) {
    count_.fetch_add(count);
    bytes_.fetch_add(bytes);
  }
  void remove(std::int64_t count, std::int64_t bytes) { add(-count, -bytes); }

  std::int64_t count() const { return count_.load(); }
  std::int64_t bytes() const { return bytes_.load(); }
  // Set once before intake starts: how many journaled leads wait to be routed.
  void set_routing_lag(std::function<std::int64_t()> lag) { routing_lag_ = std::move(lag); }

  bool full() const {
    const auto waiting = count_.load() + (routing_lag_ ? routing_lag_() : 0);
    return waiting >= static_cast<std::int64_t>(max_count_) || bytes_.load() >= static_cast<std::int64_t>(max_bytes_);
  }

 private:
  std::uint64_t max_count_;
  std::uint64_t max_bytes_;
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> bytes_{0};
  std::function<std::int64_t()> routing_lag_;
};

}  // namespace leadrelay::outbox
