#include "daemon/store/reader.hpp"

#include <rapidjson/document.h>

#include "daemon/store/schema.hpp"
#include "daemon/store/sqlite.hpp"

namespace leadrelay::store {
namespace {
using detail::bind;
using detail::column;
using detail::column_string;

std::vector<std::string> parse_actions(std::string_view json) {
  std::vector<std::string> out;
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.IsArray()) {
    for (const auto& a : d.GetArray()) {
      if (a.IsString()) out.emplace_back(a.GetString(), a.GetStringLength());
    }
  }
  return out;
}

// The columns both pending-delivery queries select, in this order.
PendingDelivery pending_row(sqlite3_stmt* row) {
  PendingDelivery p;
  p.id = sqlite3_column_int64(row, 0);
  p.destination = column_string(row, 1);
  p.msg_key = column_string(row, 2);
  p.bytes = sqlite3_column_int64(row, 3);
  p.lead_id = column_string(row, 4);
  p.lead_json = column_string(row, 5);
  p.source = column_string(row, 6);
  p.action = column_string(row, 7);
  p.test_lead = sqlite3_column_int(row, 8) != 0;
  return p;
}
#define LEADRELAY_PENDING_COLUMNS \
  "SELECT d.id, d.destination, d.msg_key, d.bytes, r.lead_id, r.lead, r.source, r.action, r.test_lead " \
  "FROM deliveries d JOIN routed r ON r.seq = d.lead_seq "

// Every row of a bound statement, each made by `row`, appended to `out`; the statement is reset after.
template <class Row, class MakeRow>
bool read_all(sqlite3* db, sqlite3_stmt* stmt, MakeRow row, std::vector<Row>& out, std::string& error) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.push_back(row(stmt));
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db);
  return rc == SQLITE_DONE;
}

JournaledLead journaled_row(sqlite3_stmt* row) {
  JournaledLead l;
  l.seq = sqlite3_column_int64(row, 0);
  l.stored_lead = column_string(row, 1);
  l.raw = column_string(row, 2);
  l.format = column_string(row, 3);
  l.lead_id = column_string(row, 4);
  l.source = column_string(row, 5);
  l.received_at_ms = sqlite3_column_int64(row, 6);
  return l;
}

DeadLetter dead_letter_row(sqlite3_stmt* row) {
  DeadLetter d;
  d.id = sqlite3_column_int64(row, 0);
  d.destination = column_string(row, 1);
  d.lead_id = column_string(row, 2);
  d.error = column_string(row, 3);
  d.failed_at_ms = sqlite3_column_int64(row, 4);
  return d;
}
}  // namespace

std::unique_ptr<Reader> Reader::open(const std::filesystem::path& state_dir, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database_path(state_dir).c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot read the store: " + std::string(sqlite3_errmsg(db));
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, detail::kBusyTimeoutMs);
  return std::unique_ptr<Reader>(new Reader(db));
}

Reader::Reader(sqlite3* db) : db_(db), statements_(std::make_unique<detail::Statements>(db)) {}

Reader::~Reader() {
  statements_.reset();
  sqlite3_close(db_);
}

Reader::Snapshot::Snapshot(Reader& reader) : transaction_(std::make_unique<detail::ReadTransaction>(reader.db_)) {}
Reader::Snapshot::~Snapshot() = default;
Reader::Snapshot::Snapshot(Snapshot&&) noexcept = default;
void Reader::Snapshot::end() { transaction_.reset(); }

std::int64_t Reader::pipeline_cursor() {
  return detail::query_int(db_, "SELECT COALESCE((SELECT value FROM cursors WHERE name = 'pipeline'), 0)");
}

std::pair<std::int64_t, std::int64_t> Reader::pending_totals() {
  auto snapshot = this->snapshot();
  return {detail::query_int(db_, "SELECT COUNT(*) FROM deliveries WHERE state = 0"),
          detail::query_int(db_, "SELECT COALESCE(SUM(bytes), 0) FROM deliveries WHERE state = 0")};
}

bool Reader::next_to_route(std::int64_t after_seq, int limit, std::vector<JournaledLead>& out, std::string& error) {
  auto* select = statements_->get("SELECT seq, lead, raw, format, lead_id, source, received_at_ms FROM leads "
                                  "WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                                  error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, after_seq);
  sqlite3_bind_int(select, 2, limit);
  return read_all(db_, select, journaled_row, out, error);
}

std::optional<PersonRecord> Reader::person(std::string_view key) {
  std::string error;
  auto* find =
      statements_->get("SELECT first_lead_id, occurrences, actions, expires_ms FROM person_keys WHERE key = ?1", error);
  if (find == nullptr) return std::nullopt;
  bind(find, 1, key);
  std::optional<PersonRecord> found;
  if (sqlite3_step(find) == SQLITE_ROW) {
    PersonRecord p;
    p.first_lead_id = column_string(find, 0);
    p.occurrences = sqlite3_column_int(find, 1);
    p.actions = parse_actions(column(find, 2));
    p.expires_ms = sqlite3_column_int64(find, 3);
    found = std::move(p);
  }
  sqlite3_reset(find);
  return found;
}

bool Reader::pending_deliveries(std::string_view destination, std::int64_t after_id, int limit,
                                std::vector<PendingDelivery>& out, std::string& error) {
  auto* select = statements_->get(LEADRELAY_PENDING_COLUMNS
                                  "WHERE d.state = 0 AND d.id > ?1 AND d.destination = ?2 ORDER BY d.id LIMIT ?3",
                                  error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, after_id);
  bind(select, 2, destination);
  sqlite3_bind_int(select, 3, limit);
  return read_all(db_, select, pending_row, out, error);
}

bool Reader::pending_kafka_deliveries(std::int64_t after_id, int limit, std::vector<PendingDelivery>& out,
                                      std::string& error) {
  auto* select = statements_->get(LEADRELAY_PENDING_COLUMNS
                                  "WHERE d.state = 0 AND d.id > ?1 AND d.destination LIKE 'kafka:%' ORDER BY d.id "
                                  "LIMIT ?2",
                                  error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, after_id);
  sqlite3_bind_int(select, 2, limit);
  return read_all(db_, select, pending_row, out, error);
}

std::vector<DestinationBacklog> Reader::backlog_by_destination() {
  std::vector<DestinationBacklog> out;
  std::string error;
  // The pending-deliveries index keeps this cheap.
  auto* select = statements_->get("SELECT destination, COUNT(*), SUM(bytes) FROM deliveries WHERE state = 0 "
                                  "GROUP BY destination ORDER BY destination",
                                  error);
  if (select == nullptr) return out;
  read_all(
      db_, select,
      [](sqlite3_stmt* row) {
        return DestinationBacklog{column_string(row, 0), sqlite3_column_int64(row, 1), sqlite3_column_int64(row, 2)};
      },
      out, error);
  return out;
}

std::vector<DeadLetter> Reader::dead_letters(const DeadLetterFilter& filter) {
  std::vector<DeadLetter> out;
  std::string error;
  auto* select = statements_->get("SELECT d.id, d.destination, r.lead_id, d.error, d.done_ms FROM deliveries d "
                                  "JOIN routed r ON r.seq = d.lead_seq WHERE " LEADRELAY_DEAD_LETTER_MATCH
                                  " ORDER BY d.id DESC LIMIT 1000",
                                  error);
  if (select == nullptr) return out;
  detail::bind_dead_letter_filter(select, filter);
  read_all(db_, select, dead_letter_row, out, error);
  return out;
}

std::optional<DeadLetter> Reader::dead_letter(std::int64_t id) {
  std::string error;
  auto* select = statements_->get("SELECT d.id, d.destination, r.lead_id, d.error, d.done_ms, r.lead FROM "
                                  "deliveries d JOIN routed r ON r.seq = d.lead_seq WHERE " LEADRELAY_DEAD_LETTER_MATCH,
                                  error);
  if (select == nullptr) return std::nullopt;
  detail::bind_dead_letter_filter(select, {{}, id});
  std::optional<DeadLetter> found;
  if (sqlite3_step(select) == SQLITE_ROW) {
    found = dead_letter_row(select);
    found->lead_json = column_string(select, 5);
  }
  sqlite3_reset(select);
  return found;
}

}  // namespace leadrelay::store
