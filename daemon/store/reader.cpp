#include "daemon/store/reader.hpp"

#include <rapidjson/document.h>

#include <algorithm>

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
  p.event = sqlite3_column_int(row, 9) != 0;
  return p;
}
// A lead delivery carries the lead; an event delivery its event (deliveries.event_id).
#define LEADRELAY_PENDING_COLUMNS                                                                                \
  "SELECT d.id, d.destination, d.msg_key, d.bytes, r.lead_id, COALESCE(n.document, e.event, r.lead), r.source, " \
  "r.action, r.test_lead, d.event_id IS NOT NULL FROM deliveries d JOIN routed r ON r.seq = d.lead_seq "        \
  "LEFT JOIN lead_events e ON e.id = d.event_id LEFT JOIN notifications n ON n.id = d.notification_id "

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
  if (sqlite3_open_v2(database_path(state_dir).c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
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

std::int64_t Reader::pipeline_cursor() { return cursor("pipeline"); }

std::int64_t Reader::cursor(std::string_view name, std::int64_t fallback) {
  std::string error;
  auto* select = statements_->get("SELECT value FROM cursors WHERE name = ?1", error);
  if (select == nullptr) return fallback;
  bind(select, 1, name);
  const auto value = sqlite3_step(select) == SQLITE_ROW ? sqlite3_column_int64(select, 0) : fallback;
  sqlite3_reset(select);
  return value;
}

std::string Reader::referral_lead(std::string_view referral_id) {
  std::string error;
  auto* select = statements_->get(
      "SELECT lead_id FROM lifecycle WHERE referral_id = ?1 ORDER BY seq DESC LIMIT 1", error);
  if (select == nullptr) return {};
  bind(select, 1, referral_id);
  std::string lead_id = sqlite3_step(select) == SQLITE_ROW ? column_string(select, 0) : std::string();
  sqlite3_reset(select);
  return lead_id;
}

std::int64_t Reader::company_index_cursor() { return cursor("company_index"); }

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

namespace {
using detail::Where;

// Which index a list walks, newest first, so that it stops after `limit` matches instead of sorting every row that
// matches one filter (SQLite's own choice, e.g. country's index then a sort of a tenth of the store, took 85 ms with
// a million leads; these take a few): the customer's trigram index (rowid order), else the hot leads (few, then
// sorted), else the favorites, else one walk of (status, seq) per status given, merged; else the rows themselves
// (a country of a few percent of the leads fills a page within a few thousand rows; one with almost none reads
// them all, ~150 ms with a million: the price of one index fewer to write per lead).
enum class Driver { Rows, Customer, Hot, Favorite, Status };

Driver driver_of(const LeadFilter& f) {
  if (f.customer.size() >= 3) return Driver::Customer;  // trigrams need three characters
  if (f.hot == true) return Driver::Hot;
  if (f.favorite == true) return Driver::Favorite;
  if (!f.status.empty()) return Driver::Status;
  return Driver::Rows;
}

// The filters as a WHERE clause; `skip` is the driver's own filter (bound by the driver's query, one value each).
Where where_of(const LeadFilter& f, bool with_cursor, Driver skip = Driver::Rows) {
  Where w;
  if (skip != Driver::Status) w.any_of("lc.status", f.status);
  w.any_of("lc.call_to_action", f.call_to_action);
  w.any_of("lc.country", f.country);
  w.any_of("lc.lead_source", f.lead_source);
  w.any_of("lc.lead_type", f.lead_type);
  w.any_of("lc.classification", f.classification);
  w.any_of("lc.quality", f.quality);
  w.any_of("lc.email_validity", f.email_validity);
  w.any_of("lc.phone_validity", f.phone_validity);
  if (!f.customer.empty() && skip != Driver::Customer) {
    w.contains("lc.company", f.customer);
  }
  if (f.favorite) w.add(*f.favorite ? "lc.favorite = 1" : "lc.favorite = 0");
  if (f.hot) w.compare(*f.hot ? "lc.hot_until_ms > ?" : "lc.hot_until_ms <= ?", f.now_ms);
  if (f.from_ms > 0) w.compare("lc.received_at_ms >= ?", f.from_ms);
  if (f.to_ms > 0) w.compare("lc.received_at_ms < ?", f.to_ms);
  if (with_cursor && f.before_seq > 0) w.compare("lc.seq < ?", f.before_seq);
  return w;
}

}  // namespace

bool Reader::leads(const LeadFilter& filter, std::vector<LeadRow>& out, std::string& error) {
  constexpr const char* kColumns =
      "SELECT lc.seq, lc.lead_id, lc.msg_key, lc.received_at_ms, lc.status, lc.version, lc.hot_until_ms, "
      "lc.expires_at_ms, lc.accepted_at_ms, lc.closed_at_ms, lc.deal, lc.reason, lc.notes, lc.favorite, r.lead, "
      "lc.referral_id ";
  const auto limit = " LIMIT " + std::to_string(std::max(1, filter.limit));
  const auto driver = driver_of(filter);
  // One query (or one per value of the driver's filter), each newest first; their rows merged.
  const auto run = [&](const std::string& from, Where where, const std::string& order) {
    const auto sql = std::string(kColumns) + from + where.sql + order + limit;
    auto* stmt = detail::prepare_filtered(db_, sql, where, error);
    if (stmt == nullptr) return false;
    const bool ok = read_all(db_, stmt, detail::lead_row, out, error);
    sqlite3_finalize(stmt);
    return ok;
  };
  const std::string join = " JOIN routed r ON r.seq = lc.seq ";
  bool ok = true;
  switch (driver) {
    case Driver::Customer: {
      // The index holds the companies up to its cursor; the few leads routed since are matched with LIKE.
      const auto indexed = company_index_cursor();
      auto tail = where_of(filter, true);
      tail.compare("lc.seq > ?", indexed);
      ok = run("FROM lifecycle lc NOT INDEXED" + join, std::move(tail), " ORDER BY lc.seq DESC");
      auto where = where_of(filter, true, Driver::Customer);
      where.add("lifecycle_company MATCH ?");
      where.texts.push_back(detail::fts_phrase(filter.customer));
      where.kinds += 't';
      ok = ok && run("FROM lifecycle_company f JOIN lifecycle lc ON lc.seq = f.rowid" + join, std::move(where),
                     " ORDER BY f.rowid DESC");
      break;
    }
    case Driver::Hot:
      ok = run("FROM lifecycle lc INDEXED BY lifecycle_hot" + join, where_of(filter, true), " ORDER BY lc.seq DESC");
      break;
    case Driver::Favorite:
      ok = run("FROM lifecycle lc INDEXED BY lifecycle_favorite" + join, where_of(filter, true),
               " ORDER BY lc.seq DESC");
      break;
    case Driver::Status:
      for (const auto& value : filter.status) {
        auto where = where_of(filter, true, driver);
        where.add("lc.status = ?");
        where.texts.push_back(value);
        where.kinds += 't';
        ok = ok && run("FROM lifecycle lc INDEXED BY lifecycle_status" + join, std::move(where), " ORDER BY lc.seq DESC");
      }
      break;
    case Driver::Rows:
      ok = run("FROM lifecycle lc NOT INDEXED" + join, where_of(filter, true), " ORDER BY lc.seq DESC");
      break;
  }
  if (!ok) return false;
  std::sort(out.begin(), out.end(), [](const LeadRow& a, const LeadRow& b) { return a.seq > b.seq; });
  out.erase(std::unique(out.begin(), out.end(), [](const LeadRow& a, const LeadRow& b) { return a.seq == b.seq; }),
            out.end());
  if (out.size() > static_cast<std::size_t>(std::max(1, filter.limit))) out.resize(static_cast<std::size_t>(filter.limit));
  return true;
}

std::int64_t Reader::count_leads(const LeadFilter& filter) {
  const auto where = where_of(filter, false);
  std::string error;
  auto* stmt = detail::prepare_filtered(db_, "SELECT COUNT(*) FROM lifecycle lc " + where.sql, where, error);
  if (stmt == nullptr) return -1;
  const auto count = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  return count;
}

std::optional<LeadRow> Reader::lead(std::string_view lead_id) {
  std::string error;
  auto* find = statements_->get(LEADRELAY_LEAD_COLUMNS "WHERE lc.seq = (SELECT seq FROM leads WHERE lead_id = ?1)",
                                error);
  if (find == nullptr) return std::nullopt;
  bind(find, 1, lead_id);
  std::optional<LeadRow> row;
  if (sqlite3_step(find) == SQLITE_ROW) row = detail::lead_row(find);
  sqlite3_reset(find);
  return row;
}

std::vector<LeadEvent> Reader::lead_history(std::int64_t seq) {
  std::vector<LeadEvent> out;
  std::string error;
  auto* select = statements_->get(
      "SELECT id, version, at_ms, actor, event FROM lead_events WHERE lead_seq = ?1 ORDER BY id", error);
  if (select == nullptr) return out;
  sqlite3_bind_int64(select, 1, seq);
  read_all(
      db_, select,
      [](sqlite3_stmt* row) {
        return LeadEvent{sqlite3_column_int64(row, 0), sqlite3_column_int64(row, 1), sqlite3_column_int64(row, 2),
                         column_string(row, 3), column_string(row, 4)};
      },
      out, error);
  return out;
}

bool Reader::waiting_leads(std::int64_t due_by_ms, int limit, std::vector<LeadRow>& out, std::string& error) {
  auto* select = statements_->get(LEADRELAY_LEAD_COLUMNS "WHERE lc.status = 'Received' AND lc.expires_at_ms <= ?1 "
                                  "ORDER BY lc.expires_at_ms LIMIT ?2",
                                  error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, due_by_ms);
  sqlite3_bind_int(select, 2, limit);
  return read_all(db_, select, detail::lead_row, out, error);
}

bool Reader::person_leads(std::string_view email, std::string_view phone, std::string_view lead_id,
                          std::vector<LeadRow>& out, std::string& error) {
  auto* select = statements_->get(
      LEADRELAY_LEAD_COLUMNS
      "WHERE lc.contact_removed_at_ms = 0 AND ("
      "(?1 != '' AND (lc.msg_key = ?1 OR lower(json_extract(r.lead, '$.contact.email')) = ?1 OR "
      "json_extract(r.lead, '$.email_check.normalized') = ?1)) OR "
      "(?2 != '' AND (lc.msg_key = ?2 OR json_extract(r.lead, '$.phone_check.e164') = '+' || ltrim(?2, '+') OR "
      "replace(replace(replace(replace(replace(replace(json_extract(r.lead, '$.contact.phone'), ' ', ''), '-', ''), "
      "'(', ''), ')', ''), '.', ''), '+', '') = ltrim(?2, '+'))) OR "
      "(?3 != '' AND lc.lead_id = ?3)) ORDER BY lc.seq",
      error);
  if (select == nullptr) return false;
  bind(select, 1, email);
  bind(select, 2, phone);
  bind(select, 3, lead_id);
  return read_all(db_, select, detail::lead_row, out, error);
}

bool Reader::retention_due(std::int64_t answered_before, std::int64_t informational_before, int limit,
                           std::vector<LeadRow>& out, std::string& error) {
  auto* select = statements_->get(
      LEADRELAY_LEAD_COLUMNS
      "WHERE lc.contact_removed_at_ms = 0 AND lc.received_at_ms < max(?1, ?2) AND "
      "((lc.status = 'Informational' AND lc.received_at_ms < ?2) OR "
      "(lc.status NOT IN ('Informational', 'Received') AND lc.received_at_ms < ?1)) AND "
      "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.lead_seq = lc.seq AND d.state = 0) "
      "ORDER BY lc.received_at_ms LIMIT ?3",
      error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, answered_before);
  sqlite3_bind_int64(select, 2, informational_before);
  sqlite3_bind_int(select, 3, limit);
  return read_all(db_, select, detail::lead_row, out, error);
}

bool Reader::retention_waiting(std::int64_t before, std::int64_t& count, std::string& error) {
  auto* select = statements_->get(
      "SELECT COUNT(*) FROM lifecycle lc WHERE lc.contact_removed_at_ms = 0 AND lc.received_at_ms < ?1 AND "
      "(lc.status = 'Received' OR EXISTS (SELECT 1 FROM deliveries d WHERE d.lead_seq = lc.seq AND d.state = 0))",
      error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, before);
  std::vector<std::int64_t> n;
  if (!read_all(db_, select, [](sqlite3_stmt* row) { return sqlite3_column_int64(row, 0); }, n, error)) return false;
  count = n.empty() ? 0 : n.front();
  return true;
}

void Reader::contact_counts(std::int64_t& kept, std::int64_t& removed) {
  kept = detail::query_int(db_, "SELECT COUNT(*) FROM lifecycle WHERE contact_removed_at_ms = 0", -1);
  removed = detail::query_int(db_, "SELECT COUNT(*) FROM lifecycle WHERE contact_removed_at_ms > 0", -1);
}

bool Reader::deletion_due(std::int64_t before, int limit, std::vector<std::int64_t>& out, std::string& error) {
  auto* select = statements_->get(
      "SELECT lc.seq FROM lifecycle lc WHERE lc.received_at_ms < ?1 AND lc.status != 'Received' AND NOT EXISTS "
      "(SELECT 1 FROM deliveries d WHERE d.lead_seq = lc.seq AND d.state = 0) ORDER BY lc.seq LIMIT ?2",
      error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, before);
  sqlite3_bind_int(select, 2, limit);
  return read_all(db_, select, [](sqlite3_stmt* row) { return sqlite3_column_int64(row, 0); }, out, error);
}

bool Reader::lead_deliveries(std::int64_t seq, std::vector<DeliveryRecord>& out, std::string& error) {
  auto* select = statements_->get(
      "SELECT d.id, d.destination, d.state, CASE WHEN d.notification_id IS NOT NULL THEN COALESCE(n.kind, "
      "'notification') WHEN d.event_id IS NOT NULL THEN 'event' ELSE 'lead' END, COALESCE(d.done_ms, 0) FROM "
      "deliveries d LEFT JOIN notifications n ON n.id = d.notification_id WHERE d.lead_seq = ?1 ORDER BY d.id",
      error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, seq);
  return read_all(
      db_, select,
      [](sqlite3_stmt* row) {
        return DeliveryRecord{sqlite3_column_int64(row, 0), column_string(row, 1), sqlite3_column_int(row, 2),
                              column_string(row, 3), sqlite3_column_int64(row, 4)};
      },
      out, error);
}

bool Reader::held_days(std::vector<HeldDay>& out, std::string& error) {
  auto* select = statements_->get("SELECT DISTINCT rule, day FROM notifications WHERE kind = 'held' ORDER BY day, rule",
                                  error);
  if (select == nullptr) return false;
  return read_all(
      db_, select, [](sqlite3_stmt* row) { return HeldDay{column_string(row, 0), column_string(row, 1)}; }, out,
      error);
}

bool Reader::held_leads(const HeldDay& day, std::vector<LeadRow>& out, std::string& error) {
  auto* select = statements_->get(LEADRELAY_LEAD_COLUMNS "WHERE lc.seq IN (SELECT lead_seq FROM notifications WHERE "
                                  "rule = ?1 AND day = ?2 AND kind = 'held') ORDER BY lc.seq",
                                  error);
  if (select == nullptr) return false;
  bind(select, 1, day.rule);
  bind(select, 2, day.day);
  return read_all(db_, select, detail::lead_row, out, error);
}

bool Reader::unanswered_leads(std::string_view rule, int limit, std::vector<LeadRow>& out, std::string& error) {
  auto* select = statements_->get(LEADRELAY_LEAD_COLUMNS "WHERE lc.status = 'Received' AND lc.seq IN (SELECT lead_seq "
                                  "FROM notifications WHERE rule = ?1 AND kind IN ('new_lead', 'hot', 'digested')) "
                                  "ORDER BY lc.expires_at_ms LIMIT ?2",
                                  error);
  if (select == nullptr) return false;
  bind(select, 1, rule);
  sqlite3_bind_int(select, 2, limit);
  return read_all(db_, select, detail::lead_row, out, error);
}

bool Reader::expiry_warnings_due(std::int64_t after_ms, std::int64_t until_ms, int limit,
                                 std::vector<std::pair<LeadRow, std::vector<std::string>>>& out, std::string& error) {
  auto* select = statements_->get(
      LEADRELAY_LEAD_COLUMNS "WHERE lc.status = 'Received' AND lc.expires_at_ms > ?1 AND lc.expires_at_ms <= ?2 AND "
      "EXISTS (SELECT 1 FROM notifications n WHERE n.lead_seq = lc.seq AND n.kind IN ('new_lead', 'hot', 'held', "
      "'digested', 'noted') AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.key = 'expiring|' || n.rule || '|' || "
      "lc.lead_id)) ORDER BY lc.expires_at_ms LIMIT ?3",
      error);
  auto* rules = statements_->get(
      "SELECT DISTINCT n.rule FROM notifications n WHERE n.lead_seq = ?1 AND n.kind IN ('new_lead', 'hot', 'held', "
      "'digested', 'noted') AND NOT EXISTS (SELECT 1 FROM notifications x WHERE x.key = 'expiring|' || n.rule || '|' || ?2) "
      "ORDER BY n.rule",
      error);
  if (select == nullptr || rules == nullptr) return false;
  sqlite3_bind_int64(select, 1, after_ms);
  sqlite3_bind_int64(select, 2, until_ms);
  sqlite3_bind_int(select, 3, limit);
  std::vector<LeadRow> leads;
  if (!read_all(db_, select, detail::lead_row, leads, error)) return false;
  for (auto& lead : leads) {
    std::vector<std::string> names;
    sqlite3_bind_int64(rules, 1, lead.seq);
    bind(rules, 2, lead.lead_id);
    if (!read_all(db_, rules, [](sqlite3_stmt* row) { return column_string(row, 0); }, names, error)) return false;
    if (!names.empty()) out.emplace_back(std::move(lead), std::move(names));
  }
  return true;
}

}  // namespace leadrelay::store
