// The insight roll-up (insight_sql.hpp) and the reads of daemon/insights/ (Reader::insight_*).
#include "daemon/store/insight_sql.hpp"

#include <array>

#include "daemon/store/reader.hpp"
#include "daemon/store/sqlite.hpp"

namespace leadrelay::store {
namespace {
// The key's columns by position in a select that starts with them.
constexpr const char* kGroupByKey = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13";
}  // namespace

namespace detail {

std::string insight_key_sql(std::string_view row) {
  const std::string r(row);
  const auto text = [&](const char* column) { return "COALESCE(" + r + "." + column + ", '')"; };
  const auto days = [&](const char* at) {
    return "(MAX(0, " + r + "." + at + " - " + r + ".received_at_ms) / 86400000)";
  };
  const auto accept = days("accepted_at_ms");
  const auto win = days("closed_at_ms");
  return "strftime('%Y-%m', " + r + ".received_at_ms / 1000, 'unixepoch'), " + text("classification") + ", " +
         text("lead_type") + ", " + text("call_to_action") + ", " + text("country") + ", " + text("offer") + ", " +
         text("program") + ", " + text("lead_source") + ", " + r + ".status, " +
         "CASE WHEN json_extract(" + r + ".deal, '$.value') IS NULL THEN '' ELSE COALESCE(json_extract(" + r +
         ".deal, '$.currency'), '') END, " + text("reason") + ", " +
         "CASE WHEN " + r + ".accepted_at_ms = 0 THEN -1 WHEN " + accept + " <= 1 THEN 0 WHEN " + accept +
         " <= 3 THEN 1 WHEN " + accept + " <= 5 THEN 2 WHEN " + accept + " <= 7 THEN 3 WHEN " + accept +
         " <= 9 THEN 4 WHEN " + accept + " <= 11 THEN 5 WHEN " + accept + " <= 14 THEN 6 ELSE 7 END, " +
         "CASE WHEN " + r + ".status <> 'Won' THEN -1 WHEN " + win + " <= 30 THEN 0 ELSE MIN(6, (" + win +
         " - 1) / 30) END";
}

std::array<std::string, 3> insight_measures(std::string_view row) {
  const std::string r(row);
  return {"COALESCE(json_extract(" + r + ".deal, '$.value'), 0)",
          "(CASE WHEN " + r + ".accepted_at_ms = 0 THEN 0 ELSE " + r + ".accepted_at_ms - " + r +
              ".received_at_ms END)",
          "(CASE WHEN " + r + ".status = 'Won' THEN " + r + ".closed_at_ms - " + r + ".received_at_ms ELSE 0 END)"};
}

std::string measures(std::string_view row, std::string_view wrap) {
  std::string out;
  for (const auto& m : insight_measures(row)) out += (out.empty() ? "" : ", ") + std::string(wrap) + "(" + m + ")";
  return out;
}

std::string insight_schema_sql() {
  const std::string key = kInsightKey;
  const auto upsert = [&](std::string_view row, std::string_view sign) {
    return "INSERT INTO insight_cells (" + key + ", n, value, accept_ms, win_ms) VALUES (" + insight_key_sql(row) +
           ", " + std::string(sign) + "1, " + measures(row, sign) + ") ON CONFLICT (" + key +
           ") DO UPDATE SET n = n + excluded.n, value = value + excluded.value, accept_ms = accept_ms + "
           "excluded.accept_ms, win_ms = win_ms + excluded.win_ms;\n";
  };
  std::string changed;
  for (const char* c : {"status", "accepted_at_ms", "closed_at_ms", "deal", "reason", "country", "offer", "program",
                        "classification", "lead_type", "call_to_action", "lead_source", "received_at_ms"}) {
    changed += std::string(changed.empty() ? "" : " OR ") + "old." + c + " IS NOT new." + c;
  }
  return
      // What the insights filter on, copied from lead.v1 as the other filters are.
      "ALTER TABLE lifecycle ADD COLUMN offer TEXT;\n"
      "ALTER TABLE lifecycle ADD COLUMN program TEXT;\n"
      "UPDATE lifecycle SET offer = (SELECT json_extract(r.lead, '$.offer.id') FROM routed r WHERE r.seq = "
      "lifecycle.seq AND json_valid(r.lead)), program = (SELECT json_extract(r.lead, '$.program') FROM routed r "
      "WHERE r.seq = lifecycle.seq AND json_valid(r.lead));\n"
      // Past leads: those answered in a range, found by when.
      "CREATE INDEX lifecycle_accepted ON lifecycle(accepted_at_ms) WHERE accepted_at_ms > 0;\n"
      "CREATE INDEX lifecycle_closed ON lifecycle(closed_at_ms) WHERE closed_at_ms > 0;\n"
      "CREATE TABLE insight_cells (month TEXT NOT NULL, classification TEXT NOT NULL, lead_type TEXT NOT NULL, "
      "call_to_action TEXT NOT NULL, country TEXT NOT NULL, offer TEXT NOT NULL, program TEXT NOT NULL, "
      "lead_source TEXT NOT NULL, status TEXT NOT NULL, currency TEXT NOT NULL, reason TEXT NOT NULL, "
      "accept_bucket INTEGER NOT NULL, win_bucket INTEGER NOT NULL, n INTEGER NOT NULL, value REAL NOT NULL, "
      "accept_ms INTEGER NOT NULL, win_ms INTEGER NOT NULL);\n"
      "CREATE UNIQUE INDEX insight_cells_key ON insight_cells(" + key + ");\n"
      "INSERT INTO insight_cells (" + key + ", n, value, accept_ms, win_ms" +
      ") SELECT " + insight_key_sql("lc") + ", COUNT(*), " + measures("lc", "SUM") + " FROM lifecycle lc GROUP BY " +
      kGroupByKey + ";\n" +
      "CREATE TRIGGER insight_add AFTER INSERT ON lifecycle BEGIN\n" + upsert("new", "") + "END;\n" +
      "CREATE TRIGGER insight_remove AFTER DELETE ON lifecycle BEGIN\n" + upsert("old", "-") + "END;\n" +
      "CREATE TRIGGER insight_change AFTER UPDATE ON lifecycle WHEN " + changed + " BEGIN\n" +
      upsert("old", "-") + upsert("new", "") + "END;\n";
}

}  // namespace detail

namespace {
using detail::Where;

// The filters a cell and a lifecycle row share (columns named alike), as clauses on `table`.
Where insight_where(const InsightFilter& f, const std::string& table) {
  Where w;
  const auto column = [&](const char* c) { return table + "." + c; };
  w.any_of(column("classification").c_str(), f.classification);
  w.any_of(column("country").c_str(), f.country);
  w.any_of(column("lead_type").c_str(), f.lead_type);
  w.any_of(column("offer").c_str(), f.offer);
  w.any_of(column("program").c_str(), f.program);
  return w;
}

// The customer filter on lifecycle rows `lc`: the trigram index up to its cursor, LIKE after it (as the leads list).
void add_customers(Where& w, const InsightFilter& f, std::int64_t indexed) {
  if (f.customer.empty()) return;
  std::string clause = "(";
  for (const auto& c : f.customer) {
    if (clause.size() > 1) clause += " OR ";
    if (c.size() >= 3) {
      clause += "lc.seq IN (SELECT rowid FROM lifecycle_company WHERE lifecycle_company MATCH ?) OR (lc.seq > ? AND ";
      w.texts.push_back(detail::fts_phrase(c));
      w.kinds += 't';
      w.ints.push_back(indexed);
      w.kinds += 'i';
    } else {
      clause += "(";
    }
    Where like;
    like.contains("lc.company", c);
    clause += like.sql.substr(6) + ")";  // without "WHERE "
    w.texts.push_back(like.texts.front());
    w.kinds += 't';
  }
  w.add(clause + ")");
}
}  // namespace

bool Reader::insight_cells(const InsightFilter& f, std::vector<InsightCell>& out, std::string& error) {
  out.clear();
  // Without a customer the cells answer; with one, the lifecycle rows are grouped into cells the same way.
  const bool cells = f.customer.empty();
  auto where = insight_where(f, cells ? "c" : "lc");
  if (!cells) add_customers(where, f, company_index_cursor());
  where.add(cells ? "c.month BETWEEN ? AND ? AND c.n != 0"
                  : "strftime('%Y-%m', lc.received_at_ms / 1000, 'unixepoch') BETWEEN ? AND ?");
  where.texts.push_back(f.from_month);
  where.texts.push_back(f.to_month);
  where.kinds += "tt";
  const auto sql = cells ? std::string("SELECT ") + detail::kInsightKey +
                               ", n, value, accept_ms, win_ms FROM insight_cells c " + where.sql
                         : "SELECT " + detail::insight_key_sql("lc") + ", COUNT(*), " + detail::measures("lc", "SUM") +
                               " FROM lifecycle lc " + where.sql + " GROUP BY " + kGroupByKey;
  auto* stmt = detail::prepare_filtered(db_, sql, where, error);
  if (stmt == nullptr) return false;
  int rc = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    InsightCell c;
    std::string* texts[] = {&c.month,   &c.classification, &c.lead_type,   &c.call_to_action, &c.country, &c.offer,
                            &c.program, &c.lead_source,    &c.status,      &c.currency,       &c.reason};
    int i = 0;
    for (auto* t : texts) *t = detail::column_string(stmt, i++);
    c.accept_bucket = sqlite3_column_int(stmt, i++);
    c.win_bucket = sqlite3_column_int(stmt, i++);
    c.n = sqlite3_column_int64(stmt, i++);
    c.value = sqlite3_column_double(stmt, i++);
    c.accept_ms = sqlite3_column_int64(stmt, i++);
    c.win_ms = sqlite3_column_int64(stmt, i++);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  return rc == SQLITE_DONE;
}

bool Reader::insight_past(const InsightFilter& f, std::int64_t from_ms, std::int64_t to_ms, PastLeads& out,
                          std::string& error) {
  out = {};
  auto where = insight_where(f, "lc");
  add_customers(where, f, company_index_cursor());
  where.compare("lc.received_at_ms < ?", from_ms);
  where.add("((lc.accepted_at_ms >= ? AND lc.accepted_at_ms < ?) OR (lc.closed_at_ms >= ? AND lc.closed_at_ms < ?))");
  for (int i = 0; i < 2; ++i) {
    where.ints.push_back(from_ms);
    where.ints.push_back(to_ms);
    where.kinds += "ii";
  }
  const std::string in = "BETWEEN " + std::to_string(from_ms) + " AND " + std::to_string(to_ms - 1);
  const std::string sql =
      "SELECT TOTAL(lc.accepted_at_ms " + in + "), TOTAL(lc.status = 'Declined' AND lc.closed_at_ms " + in +
      "), TOTAL(lc.status = 'Won' AND lc.closed_at_ms " + in + "), TOTAL(lc.status = 'Lost' AND lc.closed_at_ms " +
      in + ") FROM lifecycle lc " + where.sql;
  auto* stmt = detail::prepare_filtered(db_, sql, where, error);
  if (stmt == nullptr) return false;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    out.accepted = sqlite3_column_int64(stmt, 0);
    out.declined = sqlite3_column_int64(stmt, 1);
    out.won = sqlite3_column_int64(stmt, 2);
    out.lost = sqlite3_column_int64(stmt, 3);
  } else {
    error = sqlite3_errmsg(db_);
  }
  sqlite3_finalize(stmt);
  return rc == SQLITE_ROW;
}

bool Reader::any_lifecycle() { return detail::query_int(db_, "SELECT EXISTS (SELECT 1 FROM lifecycle)") != 0; }

}  // namespace leadrelay::store
