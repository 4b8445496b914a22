#include "connectors/kafka/kafka_config.hpp"

#include <librdkafka/rdkafka.h>

#include <memory>

namespace leadrelay::connectors::kafka {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kKafkaKeys[] = {
    {"brokers", KeyType::String, "",
     "bootstrap servers (host:port,host:port), or 'embedded' for a Kafka mock cluster inside leadrelay (local runs "
     "and tests only: it keeps messages in memory)",
     true},
    {"compression", KeyType::Enum, "lz4", "compression of produced batches", false, 0, 0, "none|gzip|snappy|lz4|zstd"},
    {"properties", KeyType::Section, "",
     "any librdkafka producer property (security.protocol, sasl.*, ssl.*, linger.ms, ...), as strings"},
};

// Properties whose change would let a lead be lost or published twice.
struct Guard {
  const char* name;
  const char* required;  // nullptr: may not be set at all
  const char* why;
};
constexpr Guard kGuards[] = {
    {"enable.idempotence", "true", "the producer must be idempotent so retries never duplicate a lead"},
    {"acks", "all", "a lead is delivered only once every in-sync replica has it"},
    {"request.required.acks", "all", "a lead is delivered only once every in-sync replica has it"},
    {"message.timeout.ms", "0", "a message must never expire: an outage would silently drop leads"},
    {"delivery.timeout.ms", "0", "a message must never expire: an outage would silently drop leads"},
    {"bootstrap.servers", nullptr, "set the brokers with kafka.brokers"},
    {"metadata.broker.list", nullptr, "set the brokers with kafka.brokers"},
    {"compression.codec", nullptr, "set it with kafka.compression"},
    {"compression.type", nullptr, "set it with kafka.compression"},
};

}  // namespace

std::span<const KeySpec> kafka_keys() { return kKafkaKeys; }

std::vector<std::pair<std::string, std::string>> producer_properties(const KafkaConfig& config,
                                                                     const std::string& bootstrap) {
  std::vector<std::pair<std::string, std::string>> p = {
      {"bootstrap.servers", bootstrap},
      {"client.id", "leadrelay"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // 0 = never expire: during an outage messages wait (in librdkafka's queue and in the outbox) instead of
      // being dropped after 5 minutes, as the default would.
      {"message.timeout.ms", "0"},
      {"compression.codec", config.compression},
      {"linger.ms", "5"},
      {"queue.buffering.max.messages", "100000"},
      // librdkafka's statistics (every 5 s) feed the retry metric.
      {"statistics.interval.ms", "5000"},
  };
  for (const auto& kv : config.properties) p.push_back(kv);
  return p;
}

KafkaConfig parse_kafka_config(config::MapReader& r) {
  KafkaConfig c;
  c.configured = true;
  c.brokers = r.string("brokers");
  c.embedded = c.brokers == "embedded";
  c.compression = r.enumeration("compression");
  const auto props = r.child("properties");
  if (!props.IsDefined() || props.IsNull()) return c;
  if (!props.IsMap()) {
    r.error("properties", "expected a map of librdkafka properties, such as {linger.ms: \"5\"}");
    return c;
  }
  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> probe(rd_kafka_conf_new(), rd_kafka_conf_destroy);
  for (auto it = props.begin(); it != props.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    const std::string name = key.Scalar();
    const std::string path = r.path_of("properties") + "." + name;
    if (!value.IsScalar()) {
      r.diagnostics().add(value.Mark(), path, "expected a string value");
      continue;
    }
    bool refused = false;
    for (const auto& g : kGuards) {
      if (name != g.name) continue;
      if (g.required == nullptr || value.Scalar() != g.required) {
        r.diagnostics().add(key.Mark(), path, std::string("leadrelay sets this itself: ") + g.why);
        refused = true;
      }
    }
    if (refused) continue;
    char error[512];
    if (rd_kafka_conf_set(probe.get(), name.c_str(), value.Scalar().c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      r.diagnostics().add(key.Mark(), path, std::string("librdkafka refuses it: ") + error);
      continue;
    }
    c.properties.emplace_back(name, value.Scalar());
  }
  return c;
}

}  // namespace leadrelay::connectors::kafka
