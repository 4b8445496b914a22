#include "daemon/lifecycle/lifecycle_config.hpp"

namespace leadrelay::lifecycle {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr std::int64_t kDayMs = 86400000;
constexpr KeySpec kLifecycleKeys[] = {
    {"response_window", KeyType::Duration, "14d",
     "a Received lead not accepted or declined within this becomes Expired (Partner Center's 14 days)", false, 1000,
     3650 * kDayMs},
    {"hot_window", KeyType::Duration, "72h",
     "a lead whose customer asked to be contacted is hot for this long after it arrived", false, 0, 3650 * kDayMs},
    {"events_topic", KeyType::String, "leads.events",
     "the Kafka topic every lifecycle change is published to as lead-event.v1 (when kafka is configured)"},
};

}  // namespace

std::span<const KeySpec> lifecycle_keys() { return kLifecycleKeys; }

LifecycleConfig parse_lifecycle_config(config::MapReader& r) {
  LifecycleConfig c;
  c.windows.response_window = r.duration("response_window");
  c.windows.hot_window = r.duration("hot_window");
  c.events_topic = r.string("events_topic");
  const bool valid = !c.events_topic.empty() && c.events_topic.size() <= 249 && c.events_topic != "." &&
                     c.events_topic != ".." &&
                     c.events_topic.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                         std::string::npos;
  if (!valid) r.error("events_topic", "'" + c.events_topic + "' is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)");
  return c;
}

}  // namespace leadrelay::lifecycle
