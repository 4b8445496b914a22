#include "connectors/kafka/kafka_producer.hpp"

#include <rapidjson/document.h>

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"

namespace leadrelay::connectors::kafka {
namespace {

using Status = DeliveryResult::Status;

void delivery_trampoline(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KafkaProducer*>(opaque)->on_delivery(message);
}

void error_trampoline(rd_kafka_t*, int code, const char* reason, void* opaque) {
  static_cast<KafkaProducer*>(opaque)->on_error(code, reason);
}

int stats_trampoline(rd_kafka_t*, char* json, size_t length, void* opaque) {
  static_cast<KafkaProducer*>(opaque)->on_stats(std::string_view(json, length));
  return 0;  // librdkafka frees the JSON
}

}  // namespace

KafkaProducer::KafkaProducer(const KafkaConfig& config, std::string bootstrap)
    : config_(config), bootstrap_(std::move(bootstrap)) {}

KafkaProducer::~KafkaProducer() {
  if (producer_ != nullptr) rd_kafka_destroy(producer_);
}

bool KafkaProducer::start(std::string& error) {
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
  log::info("kafka_producer", {log::safe("bootstrap", bootstrap_), log::safe("compression", config_.compression),
                               {"embedded", config_.embedded}});
  return true;
}

void KafkaProducer::on_error(int code, const char* reason) {
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

void KafkaProducer::on_stats(std::string_view json) {
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

std::int64_t KafkaProducer::queue_length() const { return producer_ != nullptr ? rd_kafka_outq_len(producer_) : 0; }

void KafkaProducer::on_delivery(const rd_kafka_message_t* message) {
  --in_flight_;
  metrics::Metrics::get().delivery(std::string("kafka:") + rd_kafka_topic_name(message->rkt),
                                   message->err == RD_KAFKA_RESP_ERR_NO_ERROR);
  Completion done;
  done.id = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(message->_private));
  done.value_bytes = message->len;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // With message.timeout.ms=0 librdkafka retries transient errors forever: what reaches here is permanent
    // (message too large, not authorized, ...): failed for good, with the broker's reason.
    done.result = {Status::Permanent, rd_kafka_err2str(message->err), {}};
    metrics::Metrics::get().dead_lettered(std::string("kafka:") + rd_kafka_topic_name(message->rkt));
    log::error("kafka_delivery_failed", {{"delivery", done.id}, {"message", done.result.message},
                                         log::safe("topic", rd_kafka_topic_name(message->rkt))});
  } else if (broker_down_logged_) {
    broker_down_logged_ = false;
    log::info("kafka_reachable");
  }
  if (completed_ != nullptr) completed_->push_back(std::move(done));
}

std::size_t KafkaProducer::submit(std::span<const DeliveryItem> items, std::vector<Completion>& completed) {
  std::size_t taken = 0;
  for (const auto& item : items) {
    if (in_flight_ >= kMaxInFlight) break;
    std::vector<rd_kafka_vu_t> fields(5 + item.headers.size());
    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    fields[0].u.cstr = item.topic.c_str();
    fields[1].vtype = RD_KAFKA_VTYPE_KEY;
    fields[1].u.mem = {const_cast<char*>(item.key.data()), item.key.size()};
    fields[2].vtype = RD_KAFKA_VTYPE_VALUE;
    fields[2].u.mem = {const_cast<char*>(item.lead_json.data()), item.lead_json.size()};
    fields[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[3].u.i = RD_KAFKA_MSG_F_COPY;  // librdkafka copies what it keeps
    fields[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    fields[4].u.ptr = reinterpret_cast<void*>(static_cast<std::intptr_t>(item.id));
    for (std::size_t h = 0; h < item.headers.size(); ++h) {
      const auto& [name, value] = item.headers[h];
      fields[5 + h].vtype = RD_KAFKA_VTYPE_HEADER;
      fields[5 + h].u.header = {name.c_str(), value.data(), static_cast<ssize_t>(value.size())};
    }
    rd_kafka_error_t* failure = rd_kafka_produceva(producer_, fields.data(), fields.size());
    const auto err = failure == nullptr ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_error_code(failure);
    if (failure != nullptr) rd_kafka_error_destroy(failure);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) break;  // librdkafka's queue is full: poll, then resume here
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      completed.push_back({item.id, {Status::Permanent, rd_kafka_err2str(err), {}}, item.lead_json.size()});
      log::error("kafka_produce_failed", {{"delivery", item.id}, {"message", rd_kafka_err2str(err)}});
    } else {
      ++in_flight_;
    }
    ++taken;
  }
  return taken;
}

void KafkaProducer::poll(std::chrono::milliseconds wait, std::vector<Completion>& completed) {
  completed_ = &completed;
  rd_kafka_poll(producer_, static_cast<int>(wait.count()));
  completed_ = nullptr;
}

}  // namespace leadrelay::connectors::kafka
