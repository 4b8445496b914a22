#pragma once
// How every destination records what became of its deliveries: delivered (state 1) or refused for good (state 2,
// a dead letter with the destination's message), in the outbox, inside a journal write job.
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;

namespace leadrelay::outbox {

struct DeliveryAck {
  std::int64_t id;
  std::int64_t bytes;
  std::string error;  // empty: delivered; else the reason it is a dead letter
};

// Runs inside a journal::WriteJob; false with the database's message.
bool record_acks(sqlite3* db, const std::vector<DeliveryAck>& acks, std::int64_t now_ms, std::string& error);

}  // namespace leadrelay::outbox
