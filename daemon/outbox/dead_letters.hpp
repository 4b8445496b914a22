#pragma once
// Dead letters: deliveries a destination refused for good (state 2 in the outbox, with the destination's
// message). Listed and shown from the store; replayed by queuing a fresh delivery of the same lead to the same
// destination (the old row is kept, marked replayed), through the journal's writer.
#include <cstdint>
#include <string>

#include "daemon/journal/journal.hpp"
#include "daemon/outbox/backlog.hpp"

struct sqlite3;

namespace leadrelay::outbox {

struct DeadLetterFilter {
  std::string sink;     // "crm" (sinks[].name) or a destination such as "kafka:leads.all"; empty: all
  std::int64_t id = 0;  // one delivery; 0: all
};

// {"dead_letters": [{"id", "destination", "lead_id", "error", "failed_at"}]}, newest first, at most 1000.
std::string dead_letters_json(sqlite3* db, const DeadLetterFilter& filter);
// {"id", "destination", "lead_id", "error", "failed_at", "lead": {...}}, or empty when there is no such dead letter.
std::string dead_letter_json(sqlite3* db, std::int64_t id);
// Queues the matching dead letters again; returns how many, or -1 with `error` when the store refused.
std::int64_t replay_dead_letters(journal::Journal& journal, Backlog& backlog, const DeadLetterFilter& filter,
                                 std::string& error);

}  // namespace leadrelay::outbox
