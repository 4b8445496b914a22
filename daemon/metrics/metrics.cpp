#include "daemon/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <unordered_map>

namespace leadrelay::metrics {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& received =
      BuildCounter().Name("leadrelay_leads_received_total").Help("Lead requests that reached a source").Register(*registry);
  prometheus::Family<prometheus::Counter>& accepted =
      BuildCounter().Name("leadrelay_leads_accepted_total").Help("Leads stored durably and answered 202").Register(*registry);
  prometheus::Family<prometheus::Counter>& rejected =
      BuildCounter().Name("leadrelay_leads_rejected_total").Help("Lead requests refused, by reason (the error code)").Register(*registry);
  prometheus::Family<prometheus::Counter>& redelivered =
      BuildCounter().Name("leadrelay_leads_redelivered_total").Help("Redeliveries answered 200 with the first lead's id").Register(*registry);
  prometheus::Family<prometheus::Counter>& linked =
      BuildCounter().Name("leadrelay_leads_linked_total").Help("Later leads of the same person and offer (duplicate_of set)").Register(*registry);
  prometheus::Family<prometheus::Counter>& matched =
      BuildCounter().Name("leadrelay_route_matches_total").Help("Leads matched by each route rule").Register(*registry);
  prometheus::Family<prometheus::Counter>& dropped =
      BuildCounter().Name("leadrelay_leads_dropped_total").Help("Leads dropped by a route rule").Register(*registry);
  prometheus::Family<prometheus::Counter>& unrouted =
      BuildCounter().Name("leadrelay_leads_unrouted_total").Help("Leads no route matched (kept, not delivered)").Register(*registry);
  prometheus::Family<prometheus::Counter>& deliveries =
      BuildCounter().Name("leadrelay_deliveries_total").Help("Deliveries acknowledged (ok) or refused for good (failed), by destination").Register(*registry);
  prometheus::Family<prometheus::Counter>& retries =
      BuildCounter().Name("leadrelay_delivery_retries_total").Help("Deliveries sent again after a transient failure, by destination (Kafka: messages librdkafka transmitted again)").Register(*registry);
  prometheus::Family<prometheus::Counter>& dead =
      BuildCounter().Name("leadrelay_deliveries_dead_lettered_total").Help("Deliveries a destination refused for good, kept as dead letters (leadrelay dlq)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& circuit =
      BuildGauge().Name("leadrelay_sink_circuit_open").Help("1 while a sink's circuit breaker is open (deliveries paused after repeated failures)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& backlog =
      BuildGauge().Name("leadrelay_outbox_backlog").Help("Deliveries waiting in the outbox").Register(*registry);
  prometheus::Family<prometheus::Gauge>& backlog_bytes =
      BuildGauge().Name("leadrelay_outbox_backlog_bytes").Help("Bytes of leads waiting in the outbox").Register(*registry);
  prometheus::Family<prometheus::Gauge>& kafka_queue =
      BuildGauge().Name("leadrelay_kafka_producer_queue_messages").Help("Messages in the Kafka producer's queue, not yet acknowledged").Register(*registry);
  prometheus::Family<prometheus::Gauge>& reload_ok =
      BuildGauge().Name("leadrelay_config_last_reload_success").Help("1 when the last configuration load or reload succeeded").Register(*registry);
  prometheus::Family<prometheus::Gauge>& reload_time =
      BuildGauge().Name("leadrelay_config_last_reload_timestamp_seconds").Help("When the configuration was last loaded or reloaded").Register(*registry);
  prometheus::Family<prometheus::Gauge>& config_info =
      BuildGauge().Name("leadrelay_config_info").Help("The running configuration's hash, as a label").Register(*registry);
  prometheus::Family<prometheus::Counter>& email_verdicts =
      BuildCounter().Name("leadrelay_email_verdicts_total").Help("Routed leads by email verdict (Valid, Invalid, Spam, Unknown)").Register(*registry);
  prometheus::Family<prometheus::Counter>& phone_verdicts =
      BuildCounter().Name("leadrelay_phone_verdicts_total").Help("Routed leads by phone verdict (Valid, Invalid, Unknown)").Register(*registry);
  prometheus::Family<prometheus::Counter>& quality =
      BuildCounter().Name("leadrelay_lead_quality_total").Help("Routed leads by quality (High, Low)").Register(*registry);
  prometheus::Family<prometheus::Counter>& dns_queries =
      BuildCounter().Name("leadrelay_dns_queries_total").Help("DNS queries sent, by record type").Register(*registry);
  prometheus::Family<prometheus::Counter>& dns_lookups =
      BuildCounter().Name("leadrelay_dns_lookups_total").Help("Email domains looked up, by result").Register(*registry);
  prometheus::Family<prometheus::Counter>& dns_cache =
      BuildCounter().Name("leadrelay_dns_cache_hits_total").Help("Email domains answered from the DNS cache").Register(*registry);
  prometheus::Family<prometheus::Histogram>& commit =
      BuildHistogram().Name("leadrelay_journal_commit_duration_seconds").Help("Time of one group commit (with its fsync)").Register(*registry);
  prometheus::Family<prometheus::Counter>& committed =
      BuildCounter().Name("leadrelay_journal_commits_total").Help("Group commits of the journal").Register(*registry);
  prometheus::Family<prometheus::Histogram>& request =
      BuildHistogram().Name("leadrelay_http_request_duration_seconds").Help("Time from a request's head to its answer").Register(*registry);

  prometheus::Histogram& commit_histogram = commit.Add({}, prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  prometheus::Histogram& request_histogram = request.Add({}, prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5});
  std::mutex info_mutex;
  prometheus::Gauge* info = nullptr;
};

Metrics& Metrics::get() {
  static Metrics instance;
  return instance;
}

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

namespace {
std::string s(std::string_view v) { return std::string(v); }

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view v) const { return std::hash<std::string_view>{}(v); }
};
using CounterBySource = std::unordered_map<std::string, prometheus::Counter*, NameHash, std::equal_to<>>;

// A source's counter in `family`, without building a label map (and allocating) on each request: each thread keeps
// the pointers it has looked up. prometheus-cpp never moves a metric, and leadrelay never removes a source's.
prometheus::Counter& by_source(prometheus::Family<prometheus::Counter>& family, std::string_view source) {
  thread_local std::unordered_map<const void*, CounterBySource> cache;
  auto& counters = cache[&family];
  if (const auto it = counters.find(source); it != counters.end()) return *it->second;
  auto& counter = family.Add({{"source", s(source)}});
  counters.emplace(std::string(source), &counter);
  return counter;
}
}  // namespace

void Metrics::lead_received(std::string_view source) { by_source(impl_->received, source).Increment(); }
void Metrics::lead_accepted(std::string_view source) { by_source(impl_->accepted, source).Increment(); }
void Metrics::lead_rejected(std::string_view source, std::string_view reason) {
  impl_->rejected.Add({{"source", s(source)}, {"reason", s(reason)}}).Increment();
}
void Metrics::lead_redelivered(std::string_view source) { by_source(impl_->redelivered, source).Increment(); }
void Metrics::lead_linked() { impl_->linked.Add({}).Increment(); }
void Metrics::route_matched(std::string_view rule) { impl_->matched.Add({{"rule", s(rule)}}).Increment(); }
void Metrics::lead_dropped(std::string_view rule) { impl_->dropped.Add({{"rule", s(rule)}}).Increment(); }
void Metrics::lead_unrouted() { impl_->unrouted.Add({}).Increment(); }
void Metrics::verdicts(std::string_view email, std::string_view phone, std::string_view quality) {
  impl_->email_verdicts.Add({{"verdict", s(email)}}).Increment();
  impl_->phone_verdicts.Add({{"verdict", s(phone)}}).Increment();
  impl_->quality.Add({{"quality", s(quality)}}).Increment();
}
void Metrics::dns_query(std::string_view type) { impl_->dns_queries.Add({{"type", s(type)}}).Increment(); }
void Metrics::dns_lookup(std::string_view result) { impl_->dns_lookups.Add({{"result", s(result)}}).Increment(); }
void Metrics::dns_cache_hit() { impl_->dns_cache.Add({}).Increment(); }
void Metrics::delivery(std::string_view destination, bool ok) {
  impl_->deliveries.Add({{"destination", s(destination)}, {"result", ok ? "ok" : "failed"}}).Increment();
}
void Metrics::delivery_retries(std::string_view destination, std::int64_t count) {
  impl_->retries.Add({{"destination", s(destination)}}).Increment(static_cast<double>(count));
}
void Metrics::dead_lettered(std::string_view destination) {
  impl_->dead.Add({{"destination", s(destination)}}).Increment();
}
void Metrics::sink_circuit(std::string_view sink, bool open) { impl_->circuit.Add({{"sink", s(sink)}}).Set(open ? 1 : 0); }
void Metrics::journal_commit(double seconds, std::uint64_t) {
  impl_->commit_histogram.Observe(seconds);
  impl_->committed.Add({}).Increment();
}
void Metrics::http_request(double seconds) { impl_->request_histogram.Observe(seconds); }
void Metrics::reload(bool ok, std::string_view config_hash, double unix_seconds) {
  impl_->reload_ok.Add({}).Set(ok ? 1 : 0);
  impl_->reload_time.Add({}).Set(unix_seconds);
  if (!ok) return;
  std::lock_guard lock(impl_->info_mutex);
  if (impl_->info != nullptr) impl_->config_info.Remove(impl_->info);
  impl_->info = &impl_->config_info.Add({{"hash", s(config_hash)}});
  impl_->info->Set(1);
}
void Metrics::set_backlog(std::int64_t deliveries, std::int64_t bytes) {
  impl_->backlog.Add({}).Set(static_cast<double>(deliveries));
  impl_->backlog_bytes.Add({}).Set(static_cast<double>(bytes));
}
void Metrics::set_kafka_queue(std::int64_t messages) { impl_->kafka_queue.Add({}).Set(static_cast<double>(messages)); }

std::string Metrics::serialize() const { return prometheus::TextSerializer().Serialize(impl_->registry->Collect()); }

}  // namespace leadrelay::metrics
