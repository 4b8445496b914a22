#include "daemon/outbox/delivery_acks.hpp"

#include <sqlite3.h>

namespace leadrelay::outbox {

bool record_acks(sqlite3* db, const std::vector<DeliveryAck>& acks, std::int64_t now_ms, std::string& error) {
  sqlite3_stmt* update = nullptr;
  if (sqlite3_prepare_v2(db, "UPDATE deliveries SET state = ?1, error = ?2, done_ms = ?3 WHERE id = ?4", -1, &update,
                         nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
    return false;
  }
  bool ok = true;
  for (const auto& a : acks) {
    sqlite3_bind_int(update, 1, a.error.empty() ? 1 : 2);
    if (a.error.empty()) {
      sqlite3_bind_null(update, 2);
    } else {
      sqlite3_bind_text(update, 2, a.error.data(), static_cast<int>(a.error.size()), SQLITE_STATIC);
    }
    sqlite3_bind_int64(update, 3, now_ms);
    sqlite3_bind_int64(update, 4, a.id);
    if (sqlite3_step(update) != SQLITE_DONE) {
      error = sqlite3_errmsg(db);
      ok = false;
    }
    sqlite3_reset(update);
    if (!ok) break;
  }
  sqlite3_finalize(update);
  return ok;
}

}  // namespace leadrelay::outbox
