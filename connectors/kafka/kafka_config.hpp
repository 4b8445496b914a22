#pragma once
// The `kafka:` section: where leads are published and how. Any librdkafka property may be passed through under
// `properties:`; each is checked by librdkafka itself when the config is loaded, and the few that would break
// leadrelay's guarantees (idempotence, acks=all, no message expiry) are refused.
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors::kafka {

struct KafkaConfig {
  bool configured = false;
  bool embedded = false;  // brokers: embedded — a mock cluster inside this process (local runs and tests)
  std::string brokers;    // bootstrap servers when not embedded
  std::string compression;
  std::vector<std::pair<std::string, std::string>> properties;  // passed to librdkafka as they are
  bool operator==(const KafkaConfig&) const = default;
};

std::span<const config::KeySpec> kafka_keys();
KafkaConfig parse_kafka_config(config::MapReader& reader);

// The librdkafka properties leadrelay's producer runs with, the admin's `properties` last.
std::vector<std::pair<std::string, std::string>> producer_properties(const KafkaConfig& config,
                                                                     const std::string& bootstrap);

}  // namespace leadrelay::connectors::kafka
