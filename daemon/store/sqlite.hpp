#pragma once
// Internal to daemon/store: the few SQLite helpers its connections share. Other rooms never include this (nor
// sqlite3.h): they call the store's typed functions.
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/records.hpp"

// The WHERE clause shared by listing and replaying dead letters; ?1 = destination filter (or NULL), ?2 = id (or
// 0), bound by bind_dead_letter_filter. A macro so that the statements stay literals (Statements caches by them).
#define LEADRELAY_DEAD_LETTER_MATCH \
  "d.state = 2 AND (?1 IS NULL OR d.destination = ?1 OR d.destination = 'sink:' || ?1) AND (?2 = 0 OR d.id = ?2)"

// A stored lead with its lifecycle: the columns lead_row reads, in its order, and the join they come from.
#define LEADRELAY_LEAD_COLUMNS                                                                                    \
  "SELECT lc.seq, lc.lead_id, lc.msg_key, lc.received_at_ms, lc.status, lc.version, lc.hot_until_ms, "           \
  "lc.expires_at_ms, lc.accepted_at_ms, lc.closed_at_ms, lc.deal, lc.reason, lc.notes, lc.favorite, r.lead, "    \
  "lc.referral_id FROM lifecycle lc JOIN routed r ON r.seq = lc.seq "

namespace leadrelay::store::detail {

// How long a statement on any connection to the store waits for another connection's lock.
inline constexpr int kBusyTimeoutMs = 5000;
// A journaled lead and its redelivery key, as the journal writes them and a backup adds the intake log's leads.
inline constexpr const char* kInsertLeadSql =
    "INSERT INTO leads (lead_id, source, received_at_ms, raw, lead, format) VALUES (?1, ?2, ?3, ?4, '', ?5) "
    "ON CONFLICT (lead_id) DO NOTHING";
inline constexpr const char* kPutReplayKeySql =
    "INSERT OR REPLACE INTO replay_keys (key, lead_id, expires_ms) VALUES (?1, ?2, ?3)";

// Runs SQL without results; false with the database's message.
bool exec(sqlite3* db, const char* sql, std::string& error);

// A text or blob column of the current row; empty when NULL.
std::string_view column(sqlite3_stmt* stmt, int i);
inline std::string column_string(sqlite3_stmt* stmt, int i) { return std::string(column(stmt, i)); }

inline void bind(sqlite3_stmt* stmt, int i, std::string_view text) {
  sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void bind_dead_letter_filter(sqlite3_stmt* stmt, const DeadLetterFilter& filter);

// The current row of a LEADRELAY_LEAD_COLUMNS query.
LeadRow lead_row(sqlite3_stmt* stmt);

// Steps a bound statement once (a write, or a one-row read already consumed) and resets it; false with the
// database's message.
bool step_once(sqlite3* db, sqlite3_stmt* stmt, std::string& error);

// The first column of the first row of `sql`, or `fallback`.
std::int64_t query_int(sqlite3* db, const char* sql, std::int64_t fallback = 0);

// Statements prepared once per connection (SQLITE_PREPARE_PERSISTENT), by their SQL text's address: each call
// site passes a string literal. Finalized with the cache.
class Statements {
 public:
  explicit Statements(sqlite3* db) : db_(db) {}
  ~Statements();
  Statements(const Statements&) = delete;
  Statements& operator=(const Statements&) = delete;
  // The prepared statement, reset and unbound; null with `error` when it cannot be prepared.
  sqlite3_stmt* get(const char* sql, std::string& error);
  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> prepared_;
};

// A WHERE clause built of filters and its values, bound in order (the leads list, insights).
struct Where {
  std::string sql;
  std::vector<std::string> texts;  // bound as ?1.. in order, texts then ints (each tagged by `kinds`)
  std::vector<std::int64_t> ints;
  std::string kinds;               // 't' or 'i' per placeholder

  void add(const std::string& clause) { sql += (sql.empty() ? "WHERE " : " AND ") + clause; }
  void any_of(const char* column, const std::vector<std::string>& values) {
    if (values.empty()) return;
    std::string clause = std::string(column) + " IN (";
    for (std::size_t i = 0; i < values.size(); ++i) {
      clause += i == 0 ? "?" : ", ?";
      texts.push_back(values[i]);
      kinds += 't';
    }
    add(clause + ")");
  }
  void compare(const std::string& clause, std::int64_t value) {
    add(clause);
    ints.push_back(value);
    kinds += 'i';
  }
  // `column` holds `text` as a substring, any case (LIKE, its wildcards escaped).
  void contains(const char* column, std::string_view text) {
    std::string pattern = "%";
    for (char c : text) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    add(std::string(column) + " LIKE ? ESCAPE '\\'");
    texts.push_back(pattern + "%");
    kinds += 't';
  }
  void bind(sqlite3_stmt* stmt) const {
    std::size_t t = 0, n = 0;
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      if (kinds[i] == 't') {
        sqlite3_bind_text(stmt, static_cast<int>(i + 1), texts[t].data(), static_cast<int>(texts[t].size()),
                          SQLITE_STATIC);
        ++t;
      } else {
        sqlite3_bind_int64(stmt, static_cast<int>(i + 1), ints[n++]);
      }
    }
  }
};

// Prepares `sql` (built per query, so not from the statement cache) and binds `where`; null with `error`.
sqlite3_stmt* prepare_filtered(sqlite3* db, const std::string& sql, const Where& where, std::string& error);

// An FTS5 phrase that matches `text` as a substring (trigram tokenizer): quoted, quotes doubled.
inline std::string fts_phrase(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A read transaction from construction until end() or destruction: the reads in it share one snapshot and one
// pair of WAL read-lock system calls.
class ReadTransaction {
 public:
  // Nested in one already open, it is part of that one and ends nothing.
  explicit ReadTransaction(sqlite3* db) : db_(sqlite3_get_autocommit(db) != 0 ? db : nullptr) {
    if (db_ != nullptr) sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
  }
  ~ReadTransaction() { end(); }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  void end() {
    if (db_ != nullptr) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    db_ = nullptr;
  }

 private:
  sqlite3* db_;
};

}  // namespace leadrelay::store::detail
