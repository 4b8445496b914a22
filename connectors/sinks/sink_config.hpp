#pragma once
// `sinks:`: named destinations with a `type:` from an explicit registry. Each type declares its own keys (unknown
// keys are refused with a did-you-mean) beside its code; the keys every sink shares (retry and breaker settings)
// are declared here.
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors {

struct RetryPolicy {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{300000};
  int breaker_failures = 5;                        // consecutive failures that open the circuit
  std::chrono::milliseconds breaker_cooldown{30000};
  bool operator==(const RetryPolicy&) const = default;
};

struct SinkConfig {
  std::string name;
  std::string type;
  int line = 0;
  RetryPolicy retry;
  std::shared_ptr<const void> options;  // the type's own settings (e.g. WebhookOptions), parsed by its registry entry
  std::string fingerprint;              // the YAML as written: a reload with changed sinks needs a restart
  bool operator==(const SinkConfig& o) const { return fingerprint == o.fingerprint; }
  template <typename T>
  const T& get() const { return *static_cast<const T*>(options.get()); }
};

struct SinkType {
  std::string_view type;
  std::string_view description;
  std::span<const config::KeySpec> keys;  // the type's keys, beside the shared ones
  std::shared_ptr<const void> (*parse)(config::MapReader& r, const std::filesystem::path& base_dir);
  bool takes_events = false;  // lifecycle changes reach it as status updates of the record it made (the CRMs)
};

// Every registered type, in documentation order.
std::span<const SinkType> sink_types();
std::span<const config::KeySpec> common_sink_keys();
// The retry and breaker keys alone (every sink has them; other destinations, such as notifications, reuse them).
std::span<const config::KeySpec> retry_keys();
RetryPolicy parse_retry(config::MapReader& r);

std::vector<SinkConfig> parse_sinks(config::Diagnostics& diagnostics, const YAML::Node& node,
                                    const std::filesystem::path& base_dir);

// A secret from a file (first line) or an environment variable, as sources read theirs; several lines or
// comma-separated values when `several`.
bool read_secrets(const std::string& file, const std::string& env, const std::filesystem::path& base_dir,
                  std::vector<std::string>& out, std::string& error);

}  // namespace leadrelay::connectors
