#pragma once
// Prometheus metrics (prometheus-cpp's registry and text format), one set per process. Names follow Prometheus
// conventions: the leadrelay_ prefix, _total for counters, base units (_seconds, _bytes).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace leadrelay::metrics {

class Metrics {
 public:
  static Metrics& get();

  void lead_received(std::string_view source);
  void lead_accepted(std::string_view source);
  void lead_rejected(std::string_view source, std::string_view reason);
  void lead_redelivered(std::string_view source);
  void lead_linked();
  void route_matched(std::string_view rule);
  void lead_dropped(std::string_view rule);
  void lead_unrouted();
  void verdicts(std::string_view email, std::string_view phone, std::string_view quality);
  void dns_query(std::string_view type);
  void dns_lookup(std::string_view result);
  void dns_cache_hit();
  void delivery(std::string_view destination, bool ok);
  void delivery_retries(std::string_view destination, std::int64_t count);
  void dead_lettered(std::string_view destination);
  void sink_circuit(std::string_view sink, bool open);
  void journal_commit(double seconds, std::uint64_t leads);
  void http_request(double seconds);
  void reload(bool ok, std::string_view config_hash, double unix_seconds);

  // Gauges read when scraped.
  void set_backlog(std::int64_t deliveries, std::int64_t bytes);
  void set_kafka_queue(std::int64_t messages);

  // The text exposition format (version 0.0.4).
  std::string serialize() const;

  ~Metrics();

 private:
  Metrics();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leadrelay::metrics
