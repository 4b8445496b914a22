#pragma once
// Dead letters: deliveries a destination refused for good (kept in the store with the destination's message).
// Listed and shown from the store; replayed by queuing a fresh delivery of the same lead to the same destination
// (the old row is kept, marked replayed), through the journal's writer.
#include <cstdint>
#include <string>

#include "daemon/outbox/backlog.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::outbox {

// {"dead_letters": [{"id", "destination", "lead_id", "error", "failed_at"}]}, newest first, at most 1000.
std::string dead_letters_json(store::Reader& store, const store::DeadLetterFilter& filter);
// {"id", "destination", "lead_id", "error", "failed_at", "lead": {...}}, or empty when there is no such dead letter.
std::string dead_letter_json(store::Reader& store, std::int64_t id);
// Queues the matching dead letters again; returns how many, or -1 with `error` when the store refused.
std::int64_t replay_dead_letters(store::Journal& journal, Backlog& backlog, const store::DeadLetterFilter& filter,
                                 std::string& error);

}  // namespace leadrelay::outbox
