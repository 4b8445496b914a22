// The insight roll-ups (insight_sql.hpp) and the reads of daemon/insights/ (Reader::insight_*).
#include "daemon/store/insight_sql.hpp"

#include <algorithm>

#include "daemon/store/reader.hpp"
#include "daemon/store/sqlite.hpp"

namespace leadrelay::store {
namespace {
using detail::kInsightKey;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Every key column's expression for `row`, comma-separated.
std::string key_values(std::string_view row) {
  std::vector<std::string> out;
  for (const auto c : kInsightKey) out.push_back(detail::insight_key_sql(row, c));
  return join(out);
}

// "GROUP BY 1, 2, ..., n": the first n columns of a select.
std::string group_by_first(std::size_t n) {
  std::string out = " GROUP BY ";
  for (std::size_t i = 1; i <= n; ++i) out += (i > 1 ? ", " : "") + std::to_string(i);
  return out;
}

std::string key_names() {
  std::vector<std::string> out(kInsightKey.begin(), kInsightKey.end());
  return join(out);
}

// What insight_acted is keyed by: the month of the answer, the month the lead was received in, the answer, and
// the filters.
constexpr const char* kActedKey = "month, received_month, action, classification, lead_type, country, offer, program";
// Its index: the tab's classifications first, as every read gives them.
constexpr const char* kActedIndex =
    "classification, month, received_month, action, lead_type, country, offer, program";

// The answers of lifecycle row `row` as rows of insight_acted, each counting `n` ("1", "-1"; "COUNT(*)" with
// `from` naming the table and `group` grouping by the key), for INSERT ... SELECT.
std::string acted_rows(std::string_view row, std::string_view n, std::string_view from = {},
                       std::string_view group = {}) {
  const std::string r(row);
  const auto month = [&](const char* at) { return "strftime('%Y-%m', " + r + "." + at + " / 1000, 'unixepoch')"; };
  const auto with = [&](const std::string& action) {
    std::string out = ", " + detail::insight_key_sql(row, "month") + ", " + action;
    for (const char* c : {"classification", "lead_type", "country", "offer", "program"}) {
      out += ", " + detail::insight_key_sql(row, c);
    }
    return out + ", " + std::string(n) + std::string(from);
  };
  return "SELECT " + month("accepted_at_ms") + with("'accepted'") + " WHERE " + r + ".accepted_at_ms > 0" +
         std::string(group) + " UNION ALL SELECT " + month("closed_at_ms") + with("lower(" + r + ".status)") +
         " WHERE " + r + ".closed_at_ms > 0 AND " + r + ".status IN ('Declined', 'Won', 'Lost')" + std::string(group);
}
}  // namespace

namespace detail {

std::string insight_key_sql(std::string_view row, std::string_view column) {
  const std::string r(row);
  const std::string c(column);
  const auto days = [&](const char* at) {
    return "(MAX(0, " + r + "." + at + " - " + r + ".received_at_ms) / 86400000)";
  };
  if (c == "month") return "strftime('%Y-%m', " + r + ".received_at_ms / 1000, 'unixepoch')";
  if (c == "status") return r + ".status";
  if (c == "currency") {
    return "CASE WHEN json_extract(" + r + ".deal, '$.value') IS NULL THEN '' ELSE COALESCE(json_extract(" + r +
           ".deal, '$.currency'), '') END";
  }
  if (c == "accept_bucket") {
    const auto d = days("accepted_at_ms");
    return "CASE WHEN " + r + ".accepted_at_ms = 0 THEN -1 WHEN " + d + " <= 1 THEN 0 WHEN " + d +
           " <= 3 THEN 1 WHEN " + d + " <= 5 THEN 2 WHEN " + d + " <= 7 THEN 3 WHEN " + d + " <= 9 THEN 4 WHEN " +
           d + " <= 11 THEN 5 WHEN " + d + " <= 14 THEN 6 ELSE 7 END";
  }
  if (c == "win_bucket") {
    const auto d = days("closed_at_ms");
    return "CASE WHEN " + r + ".status <> 'Won' THEN -1 WHEN " + d + " <= 30 THEN 0 ELSE MIN(6, (" + d +
           " - 1) / 30) END";
  }
  return "COALESCE(" + r + "." + c + ", '')";
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
  const auto key = key_names();
  const auto upsert = [&](std::string_view row, std::string_view sign) {
    return "INSERT INTO insight_cells (" + key + ", n, value, accept_ms, win_ms) VALUES (" + key_values(row) + ", " +
           std::string(sign) + "1, " + measures(row, sign) + ") ON CONFLICT (" + key +
           ") DO UPDATE SET n = n + excluded.n, value = value + excluded.value, accept_ms = accept_ms + "
           "excluded.accept_ms, win_ms = win_ms + excluded.win_ms;\n" +
           "INSERT INTO insight_acted (" + kActedKey + ", n) SELECT * FROM (" +
           acted_rows(row, std::string(sign) + "1") + ") WHERE true ON CONFLICT (" + kActedIndex +
           ") DO UPDATE SET n = n + excluded.n;\n";
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
      // Past leads with a customer filter: the answers of a range, found by when they were given.
      "CREATE INDEX lifecycle_accepted ON lifecycle(accepted_at_ms) WHERE accepted_at_ms > 0;\n"
      "CREATE INDEX lifecycle_closed ON lifecycle(closed_at_ms) WHERE closed_at_ms > 0;\n"
      "CREATE TABLE insight_cells (month TEXT NOT NULL, classification TEXT NOT NULL, lead_type TEXT NOT NULL, "
      "call_to_action TEXT NOT NULL, country TEXT NOT NULL, offer TEXT NOT NULL, program TEXT NOT NULL, "
      "lead_source TEXT NOT NULL, status TEXT NOT NULL, currency TEXT NOT NULL, reason TEXT NOT NULL, "
      "accept_bucket INTEGER NOT NULL, win_bucket INTEGER NOT NULL, n INTEGER NOT NULL, value REAL NOT NULL, "
      "accept_ms INTEGER NOT NULL, win_ms INTEGER NOT NULL);\n"
      "CREATE UNIQUE INDEX insight_cells_key ON insight_cells(" + key + ");\n"
      "CREATE TABLE insight_acted (month TEXT NOT NULL, received_month TEXT NOT NULL, action TEXT NOT NULL, "
      "classification TEXT NOT NULL, lead_type TEXT NOT NULL, country TEXT NOT NULL, offer TEXT NOT NULL, "
      "program TEXT NOT NULL, n INTEGER NOT NULL);\n"
      "CREATE UNIQUE INDEX insight_acted_key ON insight_acted(" + kActedIndex + ");\n"
      "INSERT INTO insight_cells (" + key + ", n, value, accept_ms, win_ms) SELECT " + key_values("lc") +
      ", COUNT(*), " + measures("lc", "SUM") + " FROM lifecycle lc" + group_by_first(kInsightKey.size()) + ";\n" +
      "INSERT INTO insight_acted (" + kActedKey + ", n) " +
      acted_rows("lc", "COUNT(*)", " FROM lifecycle lc", group_by_first(8)) + ";\n" +
      "CREATE TRIGGER insight_add AFTER INSERT ON lifecycle BEGIN\n" + upsert("new", "") + "END;\n" +
      "CREATE TRIGGER insight_remove AFTER DELETE ON lifecycle BEGIN\n" + upsert("old", "-") + "END;\n" +
      "CREATE TRIGGER insight_change AFTER UPDATE ON lifecycle WHEN " + changed + " BEGIN\n" +
      upsert("old", "-") + upsert("new", "") + "END;\n";
}

}  // namespace detail

namespace {
using detail::Where;

// The filters a roll-up row and a lifecycle row share (columns named alike), as clauses on `table`.
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

// Appends `part`'s values to `to` (their clauses are placed in the SQL by the caller, in the same order).
void append_values(Where& to, const Where& part) {
  to.texts.insert(to.texts.end(), part.texts.begin(), part.texts.end());
  to.ints.insert(to.ints.end(), part.ints.begin(), part.ints.end());
  to.kinds += part.kinds;
}

// The lifecycle rows of the filter's customers (and its other filters, not its months), as a subquery to select
// FROM: per customer, the rows of the trigram index up to its cursor and those after it matched with LIKE (as the
// leads list), each a query of its own so that the index drives it; UNION keeps a row matched twice once.
std::string customer_rows(const InsightFilter& f, std::int64_t indexed, Where& values) {
  std::string sql;
  const auto part = [&](Where w) {
    sql += (sql.empty() ? "" : " UNION ") + std::string("SELECT lc.* FROM lifecycle lc ") + w.sql;
    append_values(values, w);
  };
  for (const auto& c : f.customer) {
    if (c.size() >= 3) {
      auto indexed_part = insight_where(f, "lc");
      indexed_part.add("lc.seq IN (SELECT rowid FROM lifecycle_company WHERE lifecycle_company MATCH ?)");
      indexed_part.texts.push_back(detail::fts_phrase(c));
      indexed_part.kinds += 't';
      part(std::move(indexed_part));
    }
    auto like = insight_where(f, "lc");
    if (c.size() >= 3) like.compare("lc.seq > ?", indexed);
    like.contains("lc.company", c);
    part(std::move(like));
  }
  return "(" + sql + ")";
}

void add_months(Where& w, const std::string& column, const InsightFilter& f) {
  w.add(column + " BETWEEN ? AND ?");
  w.texts.push_back(f.from_month);
  w.texts.push_back(f.to_month);
  w.kinds += "tt";
}

// Sets the cell's `column` from the statement's column i.
void set_column(InsightCell& c, std::string_view column, sqlite3_stmt* stmt, int i) {
  if (column == "accept_bucket" || column == "win_bucket") {
    (column == "accept_bucket" ? c.accept_bucket : c.win_bucket) = sqlite3_column_int(stmt, i);
    return;
  }
  // In kInsightKey's order.
  std::string InsightCell::*const fields[] = {&InsightCell::classification, &InsightCell::month,
                                              &InsightCell::lead_type,   &InsightCell::call_to_action,
                                              &InsightCell::country,     &InsightCell::offer,
                                              &InsightCell::program,     &InsightCell::lead_source,
                                              &InsightCell::status,      &InsightCell::currency,
                                              &InsightCell::reason};
  const auto at = std::find(kInsightKey.begin(), kInsightKey.end(), column) - kInsightKey.begin();
  c.*fields[at] = detail::column_string(stmt, i);
}
}  // namespace

bool Reader::insight_cells(const InsightFilter& f, const std::vector<std::string_view>& columns,
                           std::vector<InsightCell>& out, std::string& error) {
  out.clear();
  std::vector<std::string> selected;
  for (const auto c : columns) {
    if (std::find(kInsightKey.begin(), kInsightKey.end(), c) == kInsightKey.end()) {
      error = "not an insight column: " + std::string(c);
      return false;
    }
    selected.push_back(std::string(c));
  }
  // Without a customer the roll-up answers; with one, the customer's lifecycle rows are grouped the same way.
  const bool cells = f.customer.empty();
  Where where;
  std::string sql;
  if (cells) {
    where = insight_where(f, "c");
    add_months(where, "c.month", f);
    where.add("c.n != 0");
    sql = "SELECT " + (selected.empty() ? std::string() : join(selected) + ", ") +
          "SUM(n), SUM(value), SUM(accept_ms), SUM(win_ms) FROM insight_cells c " + where.sql;
  } else {
    const auto rows = customer_rows(f, company_index_cursor(), where);
    Where months;
    add_months(months, detail::insight_key_sql("lc", "month"), f);
    append_values(where, months);
    std::vector<std::string> expressions;
    for (const auto& c : selected) expressions.push_back(detail::insight_key_sql("lc", c));
    sql = "SELECT " + (expressions.empty() ? std::string() : join(expressions) + ", ") + "COUNT(*), " +
          detail::measures("lc", "SUM") + " FROM " + rows + " lc " + months.sql;
  }
  if (!selected.empty()) sql += group_by_first(selected.size());
  auto* stmt = detail::prepare_filtered(db_, sql, where, error);
  if (stmt == nullptr) return false;
  int rc = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    InsightCell c;
    int i = 0;
    for (const auto& column : selected) set_column(c, column, stmt, i++);
    c.n = sqlite3_column_int64(stmt, i++);
    c.value = sqlite3_column_double(stmt, i++);
    c.accept_ms = sqlite3_column_int64(stmt, i++);
    c.win_ms = sqlite3_column_int64(stmt, i++);
    if (c.n != 0) out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  return rc == SQLITE_DONE;
}

bool Reader::insight_past(const InsightFilter& f, std::int64_t from_ms, std::int64_t to_ms, PastLeads& out,
                          std::string& error) {
  out = {};
  std::string sql;
  Where where;
  if (f.customer.empty()) {
    // Answers of the range's months to leads received before them, from the roll-up.
    where = insight_where(f, "a");
    add_months(where, "a.month", f);
    where.add("a.received_month < ?");
    where.texts.push_back(f.from_month);
    where.kinds += 't';
    sql = "SELECT a.action, SUM(a.n) FROM insight_acted a " + where.sql + " GROUP BY 1";
  } else {
    // The customer's rows, twice: those accepted in the range, and those closed in it.
    const std::string in = "BETWEEN " + std::to_string(from_ms) + " AND " + std::to_string(to_ms - 1);
    const std::string before = " WHERE lc.received_at_ms < " + std::to_string(from_ms);
    const auto accepted = customer_rows(f, company_index_cursor(), where);
    const auto closed = customer_rows(f, company_index_cursor(), where);
    sql = "SELECT 'accepted', COUNT(*) FROM " + accepted + " lc" + before + " AND lc.accepted_at_ms " + in +
          " UNION ALL SELECT lower(lc.status), COUNT(*) FROM " + closed + " lc" + before + " AND lc.closed_at_ms " +
          in + " AND lc.status IN ('Declined', 'Won', 'Lost') GROUP BY 1";
  }
  auto* stmt = detail::prepare_filtered(db_, sql, where, error);
  if (stmt == nullptr) return false;
  int rc = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto action = detail::column(stmt, 0);
    const auto n = sqlite3_column_int64(stmt, 1);
    if (action == "accepted") out.accepted += n;
    if (action == "declined") out.declined += n;
    if (action == "won") out.won += n;
    if (action == "lost") out.lost += n;
  }
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  return rc == SQLITE_DONE;
}

bool Reader::any_lifecycle() { return detail::query_int(db_, "SELECT EXISTS (SELECT 1 FROM lifecycle)") != 0; }

}  // namespace leadrelay::store
