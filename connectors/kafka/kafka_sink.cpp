#include "connectors/kafka/kafka_sink.hpp"

#include <rapidjson/document.h>

#include <librdkafka/rdkafka.h>
#include <sqlite3.h>

#include <algorithm>
#include <future>

#include "daemon/outbox/delivery_acks.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/model/lead.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::connectors::kafka {
namespace {

constexpr std::int64_t kMaxInFlight = 50000;
constexpr std::string_view kPrefix = "kafka:";

void delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KafkaSink*>(opaque)->on_delivery(message);
}

void error_trampoline(rd_kafka_t*, int code, const char* reason, void* opaque) {
  static_cast<KafkaSink*>(opaque)->on_error(code, reason);
}

int stats_trampoline(rd_kafka_t*, char* json, size_t length, void* opaque) {
  static_cast<KafkaSink*>(opaque)->on_stats(std::string_view(json, length));
  return 0;  // librdkafka frees the JSON
}

}  // namespace

KafkaSink::KafkaSink(const KafkaConfig& config, std::string bootstrap, journal::Journal& journal,
                     std::filesystem::path database, outbox::Backlog& backlog)
    : config_(config), bootstrap_(std::move(bootstrap)), journal_(journal), database_(std::move(database)),
      backlog_(backlog) {}

KafkaSink::~KafkaSink() {
  stop(std::chrono::milliseconds(0));
  if (producer_ != nullptr) rd_kafka_destroy(producer_);
  sqlite3_finalize(pending_);
  sqlite3_close(db_);
}

bool KafkaSink::start(std::string& error) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : producer_properties(config_, bootstrap_)) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      error = "kafka property " + name + ": " + errstr;
      rd_kafka_conf_destroy(conf);
      return false;
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &delivery_trampoline);
  rd_kafka_conf_set_error_cb(conf, &error_trampoline);
  rd_kafka_conf_set_stats_cb(conf, &stats_trampoline);
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (producer_ == nullptr) {
    error = std::string("cannot create the Kafka producer: ") + errstr;
    return false;
  }
  if (sqlite3_open_v2(database_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot read the store: " + std::string(sqlite3_errmsg(db_));
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  if (sqlite3_prepare_v3(db_,
                         "SELECT d.id, substr(d.destination, 7), d.msg_key, r.lead, r.lead_id, r.source, r.action, "
                         "r.test_lead FROM deliveries d JOIN routed r ON r.seq = d.lead_seq "
                         "WHERE d.state = 0 AND d.id > ?1 AND d.destination LIKE 'kafka:%' ORDER BY d.id LIMIT 1000",
                         -1, SQLITE_PREPARE_PERSISTENT, &pending_, nullptr) != SQLITE_OK) {
    error = "cannot read the outbox: " + std::string(sqlite3_errmsg(db_));
    return false;
  }
  log::info("kafka_producer", {log::safe("bootstrap", bootstrap_), log::safe("compression", config_.compression),
                               {"embedded", config_.embedded}});
  thread_ = std::thread([this] {
    util::name_this_thread("lr-kafka");
    util::enter_background();
    run();
  });
  return true;
}

void KafkaSink::notify() {
  {
    std::lock_guard lock(mutex_);
    work_ = true;
  }
  wake_.notify_one();
}

void KafkaSink::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
    grace_ = grace;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void KafkaSink::on_error(int code, const char* reason) {
  const auto err = static_cast<rd_kafka_resp_err_t>(code);
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    if (!broker_down_logged_) {
      log::warn("kafka_unreachable", {{"message", reason},
                                      {"hint", "leads are kept in the outbox and published when Kafka is back"}});
    }
    broker_down_logged_ = true;
    return;
  }
  log::warn("kafka_error", {{"code", rd_kafka_err2name(err)}, {"message", reason}});
}

void KafkaSink::on_stats(std::string_view json) {
  // Messages sent again (retriable broker errors, timeouts, leader changes), per topic: what partitions
  // transmitted beyond the messages given to them and no longer queued. librdkafka reports running totals; the
  // metric counts what is new since the last report.
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return;
  const auto topics = d.FindMember("topics");
  if (topics == d.MemberEnd() || !topics->value.IsObject()) return;
  const auto counter = [](const rapidjson::Value& v, const char* name) -> std::int64_t {
    const auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
  };
  std::int64_t all = 0;
  for (const auto& t : topics->value.GetObject()) {
    const auto partitions = t.value.FindMember("partitions");
    if (partitions == t.value.MemberEnd() || !partitions->value.IsObject()) continue;
    std::int64_t sent = 0, given = 0, queued = 0;
    for (const auto& p : partitions->value.GetObject()) {
      sent += counter(p.value, "txmsgs");
      given += counter(p.value, "msgs");
      queued += counter(p.value, "msgq_cnt") + counter(p.value, "xmit_msgq_cnt");
    }
    const std::string topic(t.name.GetString(), t.name.GetStringLength());
    const auto retried = std::max<std::int64_t>(0, sent - (given - queued));
    auto& reported = reported_retries_[topic];
    if (retried > reported) metrics::Metrics::get().delivery_retries("kafka:" + topic, retried - reported);
    reported = std::max(reported, retried);
    all += reported;
  }
  log::debug("kafka_stats", {{"retried_messages", all}, {"queue", queue_length()}});
}

std::int64_t KafkaSink::queue_length() const { return producer_ != nullptr ? rd_kafka_outq_len(producer_) : 0; }

void KafkaSink::on_delivery(const rd_kafka_message_t* message) {
  --in_flight_;
  metrics::Metrics::get().delivery(std::string("kafka:") + rd_kafka_topic_name(message->rkt),
                                   message->err == RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto id = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(message->_private));
  outbox::DeliveryAck ack{id, static_cast<std::int64_t>(message->len), {}};
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // With message.timeout.ms=0 librdkafka retries transient errors forever: what reaches here is permanent
    // (message too large, not authorized, ...). The delivery is kept as failed, with the broker's reason.
    ack.error = rd_kafka_err2str(message->err);
    metrics::Metrics::get().dead_lettered(std::string("kafka:") + rd_kafka_topic_name(message->rkt));
    log::error("kafka_delivery_failed",
               {{"delivery", id}, {"message", ack.error}, log::safe("topic", rd_kafka_topic_name(message->rkt))});
  } else if (broker_down_logged_) {
    broker_down_logged_ = false;
    log::info("kafka_reachable");
  }
  acks_.push_back(std::move(ack));
}

std::size_t KafkaSink::produce_batch() {
  if (in_flight_ >= kMaxInFlight) return 0;
  // Column text stays valid until the next step; librdkafka copies what it keeps (RD_KAFKA_MSG_F_COPY).
  const auto text = [this](int column) {
    return std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(pending_, column)),
                            static_cast<std::size_t>(sqlite3_column_bytes(pending_, column)));
  };
  sqlite3_bind_int64(pending_, 1, cursor_);
  std::size_t produced = 0;
  while (sqlite3_step(pending_) == SQLITE_ROW) {
    const auto id = sqlite3_column_int64(pending_, 0);
    const auto topic = text(1);  // NUL-terminated: the end of SQLite's column text
    const auto key = text(2);
    const auto value = text(3);
    const auto lead_id = text(4);
    const auto source = text(5);
    const auto action = text(6);
    const std::string_view test = sqlite3_column_int(pending_, 7) != 0 ? "true" : "false";
    const auto err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(topic.data()), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER("lead-id", lead_id.data(), static_cast<ssize_t>(lead_id.size())),
        RD_KAFKA_V_HEADER("lead-schema", model::kLeadSchema.data(), static_cast<ssize_t>(model::kLeadSchema.size())),
        RD_KAFKA_V_HEADER("lead-source", source.data(), static_cast<ssize_t>(source.size())),
        RD_KAFKA_V_HEADER("lead-action", action.data(), static_cast<ssize_t>(action.size())),
        RD_KAFKA_V_HEADER("test-lead", test.data(), static_cast<ssize_t>(test.size())),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::intptr_t>(id))), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) break;  // librdkafka's queue is full: poll, then resume here
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      acks_.push_back(outbox::DeliveryAck{id, static_cast<std::int64_t>(value.size()), rd_kafka_err2str(err)});
      log::error("kafka_produce_failed", {{"delivery", id}, {"message", rd_kafka_err2str(err)}});
    } else {
      ++in_flight_;
    }
    cursor_ = id;
    ++produced;
    if (in_flight_ >= kMaxInFlight) break;
  }
  sqlite3_reset(pending_);
  return produced;
}

void KafkaSink::flush_acks(bool wait) {
  if (acks_.empty()) return;
  auto batch = std::make_shared<std::vector<outbox::DeliveryAck>>();
  batch->swap(acks_);
  const auto now = log::now_unix_ms();
  auto committed = std::make_shared<std::promise<bool>>();
  auto done = committed->get_future();
  journal::WriteJob job;
  job.apply = [batch, now](sqlite3* db, std::string& error) { return outbox::record_acks(db, *batch, now, error); };
  job.done = [this, batch, committed](bool ok) {
    if (ok) {
      std::int64_t bytes = 0;
      for (const auto& a : *batch) bytes += a.bytes;
      backlog_.remove(static_cast<std::int64_t>(batch->size()), bytes);
    }
    committed->set_value(ok);
  };
  journal_.submit(std::move(job));
  last_ack_flush_ = std::chrono::steady_clock::now();
  if (wait && !done.get()) {
    log::warn("outbox_ack_not_stored", {{"deliveries", static_cast<std::int64_t>(batch->size())},
                                        {"hint", "they will be published again after a restart"}});
  }
}

void KafkaSink::run() {
  while (!stopping_.load()) {
    const auto produced = produce_batch();
    rd_kafka_poll(producer_, produced > 0 ? 0 : 10);
    if (!acks_.empty() &&
        (acks_.size() >= 512 || std::chrono::steady_clock::now() - last_ack_flush_ > std::chrono::milliseconds(2))) {
      flush_acks(false);
    }
    if (produced == 0 && in_flight_ == 0 && acks_.empty()) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(100), [&] { return work_ || stopping_.load(); });
      work_ = false;
    }
  }
  // Give messages in flight the grace to be acknowledged, and record what was.
  const auto deadline = std::chrono::steady_clock::now() + grace_;
  while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) rd_kafka_poll(producer_, 10);
  flush_acks(true);
  if (in_flight_ > 0) {
    log::warn("kafka_unacknowledged_at_stop",
              {{"messages", in_flight_}, {"hint", "kept in the outbox; published again at the next start"}});
  }
}

}  // namespace leadrelay::connectors::kafka
