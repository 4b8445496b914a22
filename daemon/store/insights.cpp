// The insight roll-ups (insight_sql.hpp) and the reads of daemon/insights/ (Reader::insight_*).
#include "daemon/store/insight_sql.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>

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

// The names of `columns`, comma-separated.
std::string names(const std::vector<std::string_view>& columns) {
  std::vector<std::string> out(columns.begin(), columns.end());
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

std::vector<std::string_view> narrow_key(const NarrowRollup& r) {
  std::vector<std::string_view> key(kInsightBase.begin(), kInsightBase.end());
  for (auto c = r.columns.rbegin(); c != r.columns.rend(); ++c) {
    if (!c->empty()) key.insert(key.begin() + 2, *c);
  }
  return key;
}

namespace {
// What a roll-up does with a row whose key it has already: adds the new counts to it.
constexpr const char* kAddToCell =
    " DO UPDATE SET n = n + excluded.n, value = value + excluded.value, accept_ms = accept_ms + excluded.accept_ms, "
    "win_ms = win_ms + excluded.win_ms";

// The statement that adds lifecycle row `row` ("new", "old") to roll-up `table` keyed by `key`, counted `sign`
// ("" adds, "-" takes away).
std::string upsert(std::string_view table, const std::vector<std::string_view>& key, std::string_view row,
                   std::string_view sign) {
  std::vector<std::string> values;
  for (const auto c : key) values.push_back(insight_key_sql(row, c));
  const auto k = names(key);
  return "INSERT INTO " + std::string(table) + " (" + k + ", n, value, accept_ms, win_ms) VALUES (" + join(values) +
         ", " + std::string(sign) + "1, " + measures(row, sign) + ") ON CONFLICT (" + k + ")" + kAddToCell + ";\n";
}

// The statement that adds the lifecycle rows `lc` of `from` to roll-up `table` keyed by `key`, one upsert per cell.
std::string upsert_grouped(std::string_view table, const std::vector<std::string_view>& key, std::string_view from) {
  std::vector<std::string> values;
  for (const auto c : key) values.push_back(insight_key_sql("lc", c));
  const auto k = names(key);
  return "INSERT INTO " + std::string(table) + " (" + k + ", n, value, accept_ms, win_ms) SELECT " + join(values) +
         ", COUNT(*), " + measures("lc", "SUM") + std::string(from) + group_by_first(key.size()) + " ON CONFLICT (" +
         k + ")" + kAddToCell;
}

// The triggers that keep the roll-ups (insight_cells, insight_acted, and with `narrow` the narrow ones) as
// lifecycle rows are stored, changed and deleted.
std::string triggers_sql(bool narrow) {
  const auto add = [&](std::string_view row, std::string_view sign) {
    std::string out =
        upsert("insight_cells", {kInsightKey.begin(), kInsightKey.end()}, row, sign) + "INSERT INTO insight_acted (" +
        kActedKey + ", n) SELECT * FROM (" + acted_rows(row, std::string(sign) + "1") + ") WHERE true ON CONFLICT (" +
        kActedIndex + ") DO UPDATE SET n = n + excluded.n;\n";
    if (narrow) {
      for (const auto& r : kNarrowRollups) out += upsert(r.table, narrow_key(r), row, sign);
    }
    return out;
  };
  std::string changed;
  for (const char* c : {"status", "accepted_at_ms", "closed_at_ms", "deal", "reason", "country", "offer", "program",
                        "classification", "lead_type", "call_to_action", "lead_source", "received_at_ms"}) {
    changed += std::string(changed.empty() ? "" : " OR ") + "old." + c + " IS NOT new." + c;
  }
  // A routing batch adds its rows to the roll-ups in one statement each (insight_batch_sql); while it runs,
  // cursors holds 'insight_batch' and the row trigger stands aside.
  return "CREATE TRIGGER insight_add AFTER INSERT ON lifecycle WHEN NOT EXISTS (SELECT 1 FROM cursors WHERE name = "
         "'insight_batch') BEGIN\n" + add("new", "") + "END;\n" +
         "CREATE TRIGGER insight_remove AFTER DELETE ON lifecycle BEGIN\n" + add("old", "-") + "END;\n" +
         "CREATE TRIGGER insight_change AFTER UPDATE ON lifecycle WHEN " + changed + " BEGIN\n" + add("old", "-") +
         add("new", "") + "END;\n";
}

// Drops the three roll-up triggers, so that triggers_sql can make them again.
std::string drop_triggers_sql() {
  std::string sql;
  for (const char* t : {"insight_add", "insight_remove", "insight_change"}) {
    sql += "DROP TRIGGER IF EXISTS " + std::string(t) + ";\n";
  }
  return sql;
}

// A roll-up table keyed by `key`, with its unique index.
std::string rollup_table_sql(std::string_view table, const std::vector<std::string_view>& key) {
  std::string columns;
  for (const auto c : key) {
    const bool bucket = c == "accept_bucket" || c == "win_bucket";
    columns += std::string(c) + (bucket ? " INTEGER NOT NULL, " : " TEXT NOT NULL, ");
  }
  const std::string t(table);
  return "CREATE TABLE " + t + " (" + columns +
         "n INTEGER NOT NULL, value REAL NOT NULL, accept_ms INTEGER NOT NULL, win_ms INTEGER NOT NULL);\n"
         "CREATE UNIQUE INDEX " + t + "_key ON " + t + "(" + names(key) + ");\n";
}
}  // namespace

std::string insight_schema_sql() {
  const auto key = names({kInsightKey.begin(), kInsightKey.end()});
  return
      // What the insights filter on, copied from lead.v1 as the other filters are.
      "ALTER TABLE lifecycle ADD COLUMN offer TEXT;\n"
      "ALTER TABLE lifecycle ADD COLUMN program TEXT;\n"
      "UPDATE lifecycle SET offer = (SELECT json_extract(r.lead, '$.offer.id') FROM routed r WHERE r.seq = "
      "lifecycle.seq AND json_valid(r.lead)), program = (SELECT json_extract(r.lead, '$.program') FROM routed r "
      "WHERE r.seq = lifecycle.seq AND json_valid(r.lead));\n"
      // Past leads with a customer filter: the answers of a range, found by when they were given (schema 8 drops
      // them: one pass over the customer's rows counts those).
      "CREATE INDEX lifecycle_accepted ON lifecycle(accepted_at_ms) WHERE accepted_at_ms > 0;\n"
      "CREATE INDEX lifecycle_closed ON lifecycle(closed_at_ms) WHERE closed_at_ms > 0;\n" +
      rollup_table_sql("insight_cells", {kInsightKey.begin(), kInsightKey.end()}) +
      "CREATE TABLE insight_acted (month TEXT NOT NULL, received_month TEXT NOT NULL, action TEXT NOT NULL, "
      "classification TEXT NOT NULL, lead_type TEXT NOT NULL, country TEXT NOT NULL, offer TEXT NOT NULL, "
      "program TEXT NOT NULL, n INTEGER NOT NULL);\n"
      "CREATE UNIQUE INDEX insight_acted_key ON insight_acted(" + kActedIndex + ");\n"
      "INSERT INTO insight_cells (" + key + ", n, value, accept_ms, win_ms) SELECT " + key_values("lc") +
      ", COUNT(*), " + measures("lc", "SUM") + " FROM lifecycle lc" + group_by_first(kInsightKey.size()) + ";\n" +
      "INSERT INTO insight_acted (" + kActedKey + ", n) " +
      acted_rows("lc", "COUNT(*)", " FROM lifecycle lc", group_by_first(8)) + ";\n" + triggers_sql(false);
}

std::string insight_narrow_schema_sql() {
  std::string sql =
      "DROP INDEX IF EXISTS lifecycle_accepted;\nDROP INDEX IF EXISTS lifecycle_closed;\n" + drop_triggers_sql();
  for (const auto& r : kNarrowRollups) {
    const auto key = narrow_key(r);
    const auto k = names(key);
    sql += rollup_table_sql(r.table, key) + "INSERT INTO " + std::string(r.table) + " (" + k +
           ", n, value, accept_ms, win_ms) SELECT " + k +
           ", SUM(n), SUM(value), SUM(accept_ms), SUM(win_ms) FROM insight_cells" + group_by_first(key.size()) +
           ";\n";
  }
  return sql + triggers_sql(true);
}

std::string insight_batch_trigger_sql() { return drop_triggers_sql() + triggers_sql(true); }

std::vector<std::string> insight_batch_sql() {
  const std::string from = " FROM lifecycle lc JOIN json_each(?1) batch ON lc.seq = batch.value";
  std::vector<std::string> out;
  out.push_back(upsert_grouped("insight_cells", {kInsightKey.begin(), kInsightKey.end()}, from));
  for (const auto& r : kNarrowRollups) out.push_back(upsert_grouped(r.table, narrow_key(r), from));
  out.push_back("INSERT INTO insight_acted (" + std::string(kActedKey) + ", n) SELECT * FROM (" +
                acted_rows("lc", "COUNT(*)", from, group_by_first(8)) + ") WHERE true ON CONFLICT (" + kActedIndex +
                ") DO UPDATE SET n = n + excluded.n");
  return out;
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

// The seqs of the lifecycle rows of the filter's customers, as a subquery: per customer, the rows of the trigram
// index up to its cursor and those after it matched with LIKE (as the leads list); UNION keeps a row matched twice
// once. Its values are appended to `values`.
std::string customer_seqs(const InsightFilter& f, std::int64_t indexed, Where& values) {
  std::string sql;
  for (const auto& c : f.customer) {
    Where w;
    if (c.size() >= 3) {
      sql += std::string(sql.empty() ? "" : " UNION ") +
             "SELECT rowid FROM lifecycle_company WHERE lifecycle_company MATCH ?";
      w.texts.push_back(detail::fts_phrase(c));
      w.kinds += 't';
      w.compare("seq > ?", indexed);
    }
    w.contains("company", c);
    sql += std::string(sql.empty() ? "" : " UNION ") + "SELECT seq FROM lifecycle " + w.sql;
    append_values(values, w);
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

// The roll-up that holds every column a read groups by or filters on: the first narrow one that has what it needs
// of country, offer and program, else insight_cells.
std::string_view rollup_for(const InsightFilter& f, const std::vector<std::string>& columns) {
  const auto needs = [&](std::string_view c) {
    if (std::find(columns.begin(), columns.end(), c) != columns.end()) return true;
    return c == "country" ? !f.country.empty() : c == "offer" ? !f.offer.empty() : !f.program.empty();
  };
  constexpr std::string_view kMultiplying[] = {"country", "offer", "program"};
  for (const auto& r : detail::kNarrowRollups) {
    const auto missing = [&](std::string_view c) { return needs(c) && c != r.columns[0] && c != r.columns[1]; };
    if (std::none_of(std::begin(kMultiplying), std::end(kMultiplying), missing)) return r.table;
  }
  return "insight_cells";
}

bool step_all(sqlite3* db, sqlite3_stmt* stmt, std::string& error, const std::function<void()>& row) {
  int rc = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) row();
  if (rc != SQLITE_DONE) error = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  return rc == SQLITE_DONE;
}

// The funnel's past leads from insight_acted: answers of the filter's months to leads received before them.
bool rollup_past(sqlite3* db, const InsightFilter& f, PastLeads& out, std::string& error) {
  auto where = insight_where(f, "a");
  add_months(where, "a.month", f);
  where.add("a.received_month < ?");
  where.texts.push_back(f.from_month);
  where.kinds += 't';
  auto* stmt = detail::prepare_filtered(db, "SELECT a.action, SUM(a.n) FROM insight_acted a " + where.sql +
                                                " GROUP BY 1", where, error);
  if (stmt == nullptr) return false;
  return step_all(db, stmt, error, [&] {
    const auto action = detail::column(stmt, 0);
    const auto n = sqlite3_column_int64(stmt, 1);
    if (action == "accepted") out.accepted += n;
    if (action == "declined") out.declined += n;
    if (action == "won") out.won += n;
    if (action == "lost") out.lost += n;
  });
}
}  // namespace

bool Reader::insight_cells(const InsightFilter& f, const std::vector<std::string_view>& columns,
                           std::vector<InsightCell>& out, std::string& error, PastLeads* past) {
  out.clear();
  if (past != nullptr) *past = {};
  std::vector<std::string> selected;
  for (const auto c : columns) {
    if (std::find(kInsightKey.begin(), kInsightKey.end(), c) == kInsightKey.end()) {
      error = "not an insight column: " + std::string(c);
      return false;
    }
    selected.push_back(std::string(c));
  }
  const auto read_cell = [&](sqlite3_stmt* stmt, int from, InsightCell& c) {
    c.n += sqlite3_column_int64(stmt, from);
    c.value += sqlite3_column_double(stmt, from + 1);
    c.accept_ms += sqlite3_column_int64(stmt, from + 2);
    c.win_ms += sqlite3_column_int64(stmt, from + 3);
  };
  if (f.customer.empty()) {
    // A roll-up answers, summed over the columns not asked for.
    const std::string table(rollup_for(f, selected));
    auto where = insight_where(f, "c");
    add_months(where, "c.month", f);
    where.add("c.n != 0");
    auto sql = "SELECT " + (selected.empty() ? std::string() : join(selected) + ", ") +
               "SUM(n), SUM(value), SUM(accept_ms), SUM(win_ms) FROM " + table + " c " + where.sql;
    if (!selected.empty()) sql += group_by_first(selected.size());
    auto* stmt = detail::prepare_filtered(db_, sql, where, error);
    if (stmt == nullptr) return false;
    const auto n = static_cast<int>(selected.size());
    const bool ok = step_all(db_, stmt, error, [&] {
      InsightCell c;
      for (int i = 0; i < n; ++i) set_column(c, selected[static_cast<std::size_t>(i)], stmt, i);
      read_cell(stmt, n, c);
      if (c.n != 0) out.push_back(std::move(c));
    });
    return ok && (past == nullptr || rollup_past(db_, f, *past, error));
  }
  // A customer: one pass over the customer's lifecycle rows, each with its key values and measures as the
  // roll-ups' triggers compute them, grouped here (SQLite's GROUP BY would sort them). With `past`, the rows
  // received before the months come too, for the answers given in them.
  auto where = insight_where(f, "lc");
  where.add("lc.seq IN " + customer_seqs(f, company_index_cursor(), where));
  if (past == nullptr) where.compare("lc.received_at_ms >= ?", f.from_ms);
  where.compare("lc.received_at_ms < ?", f.until_ms);
  std::string sql = "SELECT lc.received_at_ms, lc.accepted_at_ms, lc.closed_at_ms, lc.status";
  for (const auto& c : selected) sql += ", " + detail::insight_key_sql("lc", c);
  sql += ", 1, " + detail::measures("lc", "") + " FROM lifecycle lc " + where.sql;
  auto* stmt = detail::prepare_filtered(db_, sql, where, error);
  if (stmt == nullptr) return false;
  constexpr int kKeys = 4;  // the selected columns' first
  const auto n = static_cast<int>(selected.size());
  std::unordered_map<std::string, std::size_t> at;  // the selected key values, joined by \x1f → cell in `out`
  std::string key;
  const auto in_range = [&](int i) {
    const auto t = sqlite3_column_int64(stmt, i);
    return t >= f.from_ms && t < f.until_ms;
  };
  return step_all(db_, stmt, error, [&] {
    if (sqlite3_column_int64(stmt, 0) < f.from_ms) {  // received before the months: a past lead if answered in them
      if (in_range(1)) ++past->accepted;
      if (in_range(2)) {
        const auto status = detail::column(stmt, 3);
        if (status == "Declined") ++past->declined;
        if (status == "Won") ++past->won;
        if (status == "Lost") ++past->lost;
      }
      return;
    }
    key.clear();
    for (int i = kKeys; i < kKeys + n; ++i) (key += detail::column(stmt, i)) += '\x1f';
    const auto [it, added] = at.try_emplace(key, out.size());
    if (added) {
      auto& c = out.emplace_back();
      for (int i = 0; i < n; ++i) set_column(c, selected[static_cast<std::size_t>(i)], stmt, kKeys + i);
    }
    read_cell(stmt, kKeys + n, out[it->second]);
  });
}

bool Reader::any_lifecycle() { return detail::query_int(db_, "SELECT EXISTS (SELECT 1 FROM lifecycle)") != 0; }

}  // namespace leadrelay::store
