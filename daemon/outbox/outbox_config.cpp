#include "daemon/outbox/outbox_config.hpp"

namespace leadrelay::outbox {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kOutboxKeys[] = {
    {"max_backlog", KeyType::Integer, "1000000",
     "deliveries waiting (all destinations) plus leads waiting to be routed, at most; past it new leads are "
     "answered 503 with Retry-After", false, 1,
     1000000000},
    {"max_backlog_bytes", KeyType::Size, "1GiB",
     "bytes of leads waiting for delivery at most; past it new leads are answered 503 with Retry-After", false,
     1 << 20, std::numeric_limits<std::int64_t>::max()},
    {"background_nice", KeyType::Integer, "5",
     "how many nice steps routing and delivery threads stand below intake: when the CPU is contended, senders "
     "are answered first and the backlog waits on disk; when it is free they run at full speed (0: equal)",
     false, 0, 19},
    {"background_idle", KeyType::Boolean, "true",
     "background threads (moving leads from the intake log into the store, routing, delivery) run under Linux's "
     "SCHED_IDLE: only when intake leaves the CPU idle. Under a burst senders are answered at full speed and the "
     "work waits, durable, in the intake log (journal.log_max_bytes bounds it); false: background_nice alone",
     false},
};
constexpr KeySpec kDedupKeys[] = {
    {"person_window", KeyType::Duration, "14d",
     "a lead of the same person (email, else phone) for the same offer within this time of the first is linked "
     "to it (duplicate_of, occurrence, action_history); 14 days is the partner's response window",
     false, 0, 365LL * 86400000},
};
}  // namespace

std::span<const KeySpec> outbox_keys() { return kOutboxKeys; }
std::span<const KeySpec> dedup_keys() { return kDedupKeys; }

DedupConfig parse_dedup_config(config::MapReader& r) {
  DedupConfig c;
  c.person_window = r.duration("person_window");
  return c;
}

OutboxConfig parse_outbox_config(config::MapReader& r) {
  OutboxConfig c;
  c.max_backlog = static_cast<std::uint64_t>(r.integer("max_backlog"));
  c.max_backlog_bytes = r.size("max_backlog_bytes");
  c.background_nice = static_cast<int>(r.integer("background_nice"));
  c.background_idle = r.boolean("background_idle");
  return c;
}

}  // namespace leadrelay::outbox
