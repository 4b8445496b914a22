#include "daemon/outbox/dead_letters.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sqlite3.h>

#include <future>

#include "daemon/log/log.hpp"

namespace leadrelay::outbox {
namespace {

// The WHERE clause shared by listing and replaying; ?1 = destination filter (or NULL), ?2 = id (or 0).
constexpr const char* kMatch =
    "d.state = 2 AND (?1 IS NULL OR d.destination = ?1 OR d.destination = 'sink:' || ?1) AND (?2 = 0 OR d.id = ?2)";

void bind_filter(sqlite3_stmt* stmt, const DeadLetterFilter& filter) {
  if (filter.sink.empty()) {
    sqlite3_bind_null(stmt, 1);
  } else {
    sqlite3_bind_text(stmt, 1, filter.sink.data(), static_cast<int>(filter.sink.size()), SQLITE_TRANSIENT);
  }
  sqlite3_bind_int64(stmt, 2, filter.id);
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_row(Writer& w, sqlite3_stmt* stmt) {
  const auto text = [stmt](int column) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
    return p != nullptr ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))) : std::string();
  };
  w.Key("id");
  w.Int64(sqlite3_column_int64(stmt, 0));
  w.Key("destination");
  w.String(text(1).c_str());
  w.Key("lead_id");
  w.String(text(2).c_str());
  w.Key("error");
  w.String(text(3).c_str());
  w.Key("failed_at");
  w.String(log::format_utc_ms(sqlite3_column_int64(stmt, 4)).c_str());
}

}  // namespace

std::string dead_letters_json(sqlite3* db, const DeadLetterFilter& filter) {
  const std::string sql = std::string("SELECT d.id, d.destination, r.lead_id, d.error, d.done_ms FROM deliveries d "
                                      "JOIN routed r ON r.seq = d.lead_seq WHERE ") +
                          kMatch + " ORDER BY d.id DESC LIMIT 1000";
  sqlite3_stmt* stmt = nullptr;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("dead_letters");
  w.StartArray();
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    bind_filter(stmt, filter);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      w.StartObject();
      write_row(w, stmt);
      w.EndObject();
    }
  }
  sqlite3_finalize(stmt);
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string dead_letter_json(sqlite3* db, std::int64_t id) {
  const std::string sql = std::string("SELECT d.id, d.destination, r.lead_id, d.error, d.done_ms, r.lead FROM "
                                      "deliveries d JOIN routed r ON r.seq = d.lead_seq WHERE ") +
                          kMatch;
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    bind_filter(stmt, {{}, id});
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      rapidjson::StringBuffer buffer;
      Writer w(buffer);
      w.StartObject();
      write_row(w, stmt);
      w.Key("lead");
      const auto* lead = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 5));
      w.RawValue(lead, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 5)), rapidjson::kObjectType);
      w.EndObject();
      out.assign(buffer.GetString(), buffer.GetSize());
    }
  }
  sqlite3_finalize(stmt);
  return out;
}

std::int64_t replay_dead_letters(journal::Journal& journal, Backlog& backlog, const DeadLetterFilter& filter,
                                 std::string& error) {
  struct Result {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
  };
  auto result = std::make_shared<Result>();
  std::promise<bool> committed;
  auto done = committed.get_future();
  journal::WriteJob job;
  job.apply = [filter, result](sqlite3* db, std::string& message) {
    const std::string insert = std::string("INSERT INTO deliveries (lead_seq, destination, msg_key, bytes) "
                                           "SELECT d.lead_seq, d.destination, d.msg_key, d.bytes FROM deliveries d WHERE ") +
                               kMatch + " ORDER BY d.id";
    const std::string mark = std::string("UPDATE deliveries AS d SET state = 4 WHERE ") + kMatch;
    const std::string count = std::string("SELECT COUNT(*), COALESCE(SUM(d.bytes), 0) FROM deliveries d WHERE ") + kMatch;
    bool ok = true;
    for (const auto* sql : {count.c_str(), insert.c_str(), mark.c_str()}) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        message = sqlite3_errmsg(db);
        sqlite3_finalize(stmt);
        return false;
      }
      bind_filter(stmt, filter);
      const int rc = sqlite3_step(stmt);
      if (sql == count.c_str() && rc == SQLITE_ROW) {
        result->count = sqlite3_column_int64(stmt, 0);
        result->bytes = sqlite3_column_int64(stmt, 1);
      } else if (rc != SQLITE_DONE) {
        message = sqlite3_errmsg(db);
        ok = false;
      }
      sqlite3_finalize(stmt);
      if (!ok) return false;
    }
    return true;
  };
  std::string failure;
  job.done = [&committed](bool ok) { committed.set_value(ok); };
  journal.submit(std::move(job));
  if (!done.get()) {
    error = "the store refused the replay (see the log)";
    return -1;
  }
  backlog.add(result->count, result->bytes);
  return result->count;
}

}  // namespace leadrelay::outbox
