#pragma once
// The `outbox:` section: how much undelivered work may pile up on disk before intake pushes back with 503, and
// how routing and delivery share the CPU with intake.
#include <chrono>
#include <cstdint>
#include <span>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::outbox {

struct OutboxConfig {
  std::uint64_t max_backlog = 1000000;
  std::uint64_t max_backlog_bytes = 1ULL << 30;
  int background_nice = 5;  // nice steps routing and delivery threads take below intake (util/thread.hpp)
  bool background_idle = true;  // and SCHED_IDLE on top: they run only when intake leaves the CPU idle
  bool operator==(const OutboxConfig&) const = default;
};

std::span<const config::KeySpec> outbox_keys();
OutboxConfig parse_outbox_config(config::MapReader& reader);

// The `dedup:` section: linking leads of the same person for the same offer.
struct DedupConfig {
  std::chrono::milliseconds person_window{14LL * 86400000};
  bool operator==(const DedupConfig&) const = default;
};

std::span<const config::KeySpec> dedup_keys();
DedupConfig parse_dedup_config(config::MapReader& reader);

}  // namespace leadrelay::outbox
