#include "daemon/store/sqlite.hpp"

namespace leadrelay::store::detail {

bool exec(sqlite3* db, const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    error = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
  }
  return true;
}

std::string_view column(sqlite3_stmt* stmt, int i) {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, i));
  return data == nullptr ? std::string_view{}
                         : std::string_view(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
}

void bind_dead_letter_filter(sqlite3_stmt* stmt, const DeadLetterFilter& filter) {
  if (filter.sink.empty()) {
    sqlite3_bind_null(stmt, 1);
  } else {
    sqlite3_bind_text(stmt, 1, filter.sink.data(), static_cast<int>(filter.sink.size()), SQLITE_TRANSIENT);
  }
  sqlite3_bind_int64(stmt, 2, filter.id);
}

LeadRow lead_row(sqlite3_stmt* stmt) {
  LeadRow row;
  row.seq = sqlite3_column_int64(stmt, 0);
  row.lead_id = column_string(stmt, 1);
  row.msg_key = column_string(stmt, 2);
  auto& l = row.lifecycle;
  l.received_at_ms = sqlite3_column_int64(stmt, 3);
  model::parse_status(column(stmt, 4), l.status);
  l.version = sqlite3_column_int64(stmt, 5);
  l.hot_until_ms = sqlite3_column_int64(stmt, 6);
  l.expires_at_ms = sqlite3_column_int64(stmt, 7);
  l.accepted_at_ms = sqlite3_column_int64(stmt, 8);
  l.closed_at_ms = sqlite3_column_int64(stmt, 9);
  if (const auto deal = column(stmt, 10); !deal.empty()) model::deal_from_json(deal, l.deal);
  l.reason = column_string(stmt, 11);
  l.notes = column_string(stmt, 12);
  l.favorite = sqlite3_column_int(stmt, 13) != 0;
  row.lead_json = column_string(stmt, 14);
  row.referral_id = column_string(stmt, 15);
  return row;
}

bool step_once(sqlite3* db, sqlite3_stmt* stmt, std::string& error) {
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) error = sqlite3_errmsg(db);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

std::int64_t query_int(sqlite3* db, const char* sql, std::int64_t fallback) {
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = fallback;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return value;
}

Statements::~Statements() {
  for (auto& [sql, stmt] : prepared_) sqlite3_finalize(stmt);
}

sqlite3_stmt* Statements::get(const char* sql, std::string& error) {
  if (const auto it = prepared_.find(sql); it != prepared_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return nullptr;
  }
  prepared_.emplace(sql, stmt);
  return stmt;
}

sqlite3_stmt* prepare_filtered(sqlite3* db, const std::string& sql, const Where& where, std::string& error) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    return nullptr;
  }
  where.bind(stmt);
  return stmt;
}

}  // namespace leadrelay::store::detail
