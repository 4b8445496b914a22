#pragma once
// The `lifecycle:` section: how long a lead waits for an answer before it expires, how long a lead whose customer
// asked to be contacted stays hot, and the Kafka topic every change is published to.
#include <span>
#include <string>

#include "daemon/config/yaml_reader.hpp"
#include "daemon/lifecycle/transitions.hpp"

namespace leadrelay::lifecycle {

struct LifecycleConfig {
  Windows windows;
  std::string events_topic = "leads.events";
  bool operator==(const LifecycleConfig& o) const {
    return windows.response_window == o.windows.response_window && windows.hot_window == o.windows.hot_window &&
           events_topic == o.events_topic;
  }
};

std::span<const config::KeySpec> lifecycle_keys();
LifecycleConfig parse_lifecycle_config(config::MapReader& reader);

}  // namespace leadrelay::lifecycle
