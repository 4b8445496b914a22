#include "daemon/outbox/outbox_config.hpp"

namespace leadrelay::outbox {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kOutboxKeys[] = {
    {"max_backlog", KeyType::Integer, "1000000",
     "deliveries waiting (all destinations) at most; past it new leads are answered 503 with Retry-After", false, 1,
     1000000000},
    {"max_backlog_bytes", KeyType::Size, "1GiB",
     "bytes of leads waiting for delivery at most; past it new leads are answered 503 with Retry-After", false,
     1 << 20, std::numeric_limits<std::int64_t>::max()},
};
}  // namespace

std::span<const KeySpec> outbox_keys() { return kOutboxKeys; }

OutboxConfig parse_outbox_config(config::MapReader& r) {
  OutboxConfig c;
  c.max_backlog = static_cast<std::uint64_t>(r.integer("max_backlog"));
  c.max_backlog_bytes = r.size("max_backlog_bytes");
  return c;
}

}  // namespace leadrelay::outbox
