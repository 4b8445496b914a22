#include "daemon/store/schema.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "daemon/store/insight_sql.hpp"
#include "daemon/store/sqlite.hpp"

namespace leadrelay::store {
namespace {
using detail::exec;

// Release 0.1.0's tables, exactly (tests/fixtures/store-0.1.0.sql keeps them for the migration test): IF NOT
// EXISTS makes this migration a no-op on such a store and the first schema of a new one.
//
// Leads are written once and never updated (an UPDATE would rewrite the row, raw body included). Intake stores the
// raw body and its format; the pipeline maps it again (`leads.lead` holds the mapped lead only in rows written
// before the raw-only journal, and is empty since). What the pipeline made of a lead goes to `routed`, keyed by
// the lead's seq: state 1 routed (deliveries exist), 2 dropped by a rule, 3 unrouted (no rule matched: kept, and
// logged); `lead` there is the lead as the pipeline left it.
constexpr const char* kSchema1 = R"sql(
CREATE TABLE IF NOT EXISTS leads (
  seq            INTEGER PRIMARY KEY,
  lead_id        TEXT NOT NULL UNIQUE,
  source         TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  raw            BLOB NOT NULL,
  lead           TEXT NOT NULL,
  format         TEXT
);
CREATE TABLE IF NOT EXISTS routed (
  seq       INTEGER PRIMARY KEY,
  state     INTEGER NOT NULL,
  outcome   TEXT NOT NULL,
  lead      TEXT,
  -- What destinations put in message headers, so that they need not parse the lead again.
  lead_id   TEXT,
  source    TEXT,
  action    TEXT,
  test_lead INTEGER
);
-- The outbox: one row per (lead, destination). state: 0 pending, 1 delivered (acknowledged by the destination),
-- 2 failed permanently (kept, with the destination's error), 4 a dead letter replayed (a new row took its place).
CREATE TABLE IF NOT EXISTS deliveries (
  id          INTEGER PRIMARY KEY,
  lead_seq    INTEGER NOT NULL,
  destination TEXT NOT NULL,
  msg_key     TEXT NOT NULL,
  bytes       INTEGER NOT NULL,
  state       INTEGER NOT NULL DEFAULT 0,
  error       TEXT,
  done_ms     INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(id) WHERE state = 0;
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- Redelivery keys: written only in the transaction that stores their lead, so no key is ever seen without it.
CREATE TABLE IF NOT EXISTS replay_keys (
  key        TEXT PRIMARY KEY,
  lead_id    TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_keys_expiry ON replay_keys(expires_ms);
-- The same person for the same offer: the first lead, how many so far, their action codes (JSON array).
CREATE TABLE IF NOT EXISTS person_keys (
  key           TEXT PRIMARY KEY,
  first_lead_id TEXT NOT NULL,
  occurrences   INTEGER NOT NULL,
  actions       TEXT NOT NULL,
  expires_ms    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS person_keys_expiry ON person_keys(expires_ms);
)sql";

bool has_column(sqlite3* db, const char* table, const char* name) {
  const auto sql = std::string("SELECT ") + name + " FROM " + table + " LIMIT 0";
  sqlite3_stmt* probe = nullptr;
  const bool present = sqlite3_prepare_v2(db, sql.c_str(), -1, &probe, nullptr) == SQLITE_OK;
  sqlite3_finalize(probe);
  return present;
}

bool to_version_1(sqlite3* db, std::string& error) {
  // Development stores from before the raw-only journal lack leads.format (their rows keep the mapped lead).
  return exec(db, kSchema1, error) &&
         (has_column(db, "leads", "format") || exec(db, "ALTER TABLE leads ADD COLUMN format TEXT", error));
}

bool to_version_2(sqlite3* db, std::string& error) {
  // `leadrelay dlq list` reads dead letters newest first; without this it scanned every delivery ever made.
  return exec(db, "CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries(id) WHERE state = 2", error);
}

// Lead lifecycles (LIFECYCLE.md §2): one row per lead, changed in place (small rows: the lead itself stays in
// `routed`), with the lead's values the leads API filters on copied in. Every change is an event row; an event's
// deliveries (Kafka, the CRMs that have the lead) are outbox rows that name it (deliveries.event_id).
constexpr const char* kSchema3 = R"sql(
CREATE TABLE lifecycle (
  seq            INTEGER PRIMARY KEY,
  lead_id        TEXT NOT NULL,  -- found by leads.lead_id (unique there): one index fewer per lead
  msg_key        TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  status         TEXT NOT NULL,
  version        INTEGER NOT NULL DEFAULT 1,
  hot_until_ms   INTEGER NOT NULL DEFAULT 0,
  expires_at_ms  INTEGER NOT NULL DEFAULT 0,
  accepted_at_ms INTEGER NOT NULL DEFAULT 0,
  closed_at_ms   INTEGER NOT NULL DEFAULT 0,
  deal           TEXT,
  reason         TEXT,
  notes          TEXT,
  favorite       INTEGER NOT NULL DEFAULT 0,
  call_to_action TEXT,
  country        TEXT,
  company        TEXT,
  lead_source    TEXT,
  lead_type      TEXT,
  classification TEXT,
  quality        TEXT,
  email_validity TEXT,
  phone_validity TEXT,
  destinations   TEXT  -- where the lead itself went ("sink:crm\nkafka:leads.all"): the CRMs a change updates
);
CREATE INDEX lifecycle_status ON lifecycle(status, seq);
CREATE INDEX lifecycle_due ON lifecycle(expires_at_ms) WHERE status = 'Received';
CREATE INDEX lifecycle_hot ON lifecycle(hot_until_ms);
CREATE INDEX lifecycle_favorite ON lifecycle(seq) WHERE favorite = 1;
-- The customer filter (a substring of the company name): a trigram index, newest first by rowid = seq. Filled in
-- batches (Transaction::index_companies) up to cursors.company_index, not per lead: a trigger per insert made
-- every small commit flush and merge a segment, a fifth of intake's throughput. Rows past the cursor are matched
-- with LIKE.
CREATE VIRTUAL TABLE lifecycle_company USING fts5(company, content='lifecycle', content_rowid='seq',
                                                  tokenize='trigram');
CREATE TRIGGER lifecycle_company_delete AFTER DELETE ON lifecycle
WHEN old.company IS NOT NULL AND
     old.seq <= COALESCE((SELECT value FROM cursors WHERE name = 'company_index'), 0) BEGIN
  INSERT INTO lifecycle_company (lifecycle_company, rowid, company) VALUES ('delete', old.seq, old.company);
END;
CREATE TABLE lead_events (
  id       INTEGER PRIMARY KEY,
  lead_seq INTEGER NOT NULL,
  version  INTEGER NOT NULL,
  at_ms    INTEGER NOT NULL,
  actor    TEXT NOT NULL,
  event    TEXT NOT NULL
);
CREATE INDEX lead_events_lead ON lead_events(lead_seq, id);
ALTER TABLE deliveries ADD COLUMN event_id INTEGER;
-- Leads routed before this version get the lifecycle their lead.v1 says, with the default windows (14 days to
-- answer, 72 hours hot). Those whose 14 days passed before this version are Expired already, without events: they
-- expired before leadrelay kept lifecycles, and nobody is waiting to hear of it.
INSERT OR IGNORE INTO lifecycle (seq, lead_id, msg_key, received_at_ms, status, expires_at_ms, hot_until_ms,
                                 call_to_action, country, company, lead_source, lead_type, classification, quality,
                                 email_validity, phone_validity, destinations)
SELECT r.seq, r.lead_id, COALESCE(dd.msg_key, r.lead_id),
       l.received_at_ms,
       CASE WHEN x.status = 'Received' AND l.received_at_ms + 1209600000 <= x.now_ms THEN 'Expired' ELSE x.status END,
       CASE WHEN x.status = 'Received' AND l.received_at_ms + 1209600000 > x.now_ms
            THEN l.received_at_ms + 1209600000 ELSE 0 END,
       CASE json_extract(r.lead, '$.action.call_to_action') WHEN 'ContactMe' THEN l.received_at_ms + 259200000
                                                              ELSE 0 END,
       json_extract(r.lead, '$.action.call_to_action'), json_extract(r.lead, '$.contact.country'),
       json_extract(r.lead, '$.contact.company'), json_extract(r.lead, '$.origin'), 'offer', 'customer_inquiry',
       json_extract(r.lead, '$.quality'), json_extract(r.lead, '$.email_check.verdict'),
       json_extract(r.lead, '$.phone_check.verdict'), dd.destinations
FROM routed r JOIN leads l ON l.seq = r.seq
LEFT JOIN (SELECT lead_seq, MIN(msg_key) AS msg_key, group_concat(destination, char(10)) AS destinations
           FROM (SELECT DISTINCT lead_seq, msg_key, destination FROM deliveries) GROUP BY lead_seq) dd
       ON dd.lead_seq = r.seq
JOIN (SELECT seq,
             CASE WHEN json_extract(lead, '$.action.partner_action_required') = 1 AND
                       json_extract(lead, '$.action.do_not_contact') = 0 THEN 'Received'
                  ELSE 'Informational' END AS status,
             CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS now_ms
      FROM routed WHERE lead IS NOT NULL AND json_valid(lead)) x ON x.seq = r.seq;
UPDATE lifecycle SET closed_at_ms = received_at_ms + 1209600000 WHERE status = 'Expired';
INSERT INTO lifecycle_company (rowid, company) SELECT seq, company FROM lifecycle WHERE company IS NOT NULL;
INSERT OR REPLACE INTO cursors (name, value) VALUES ('company_index', COALESCE((SELECT MAX(seq) FROM lifecycle), 0));
)sql";

bool to_version_3(sqlite3* db, std::string& error) { return exec(db, kSchema3, error); }

// Partner Center referrals: a lead made of a referral knows its id (its updates find it, its changes are written
// back to it). Leads before this version are marketplace leads.
constexpr const char* kSchema4 = R"sql(
ALTER TABLE lifecycle ADD COLUMN referral_id TEXT;
CREATE INDEX lifecycle_referral ON lifecycle(referral_id) WHERE referral_id IS NOT NULL;
)sql";

bool to_version_4(sqlite3* db, std::string& error) { return exec(db, kSchema4, error); }

// Notifications (daemon/notify/): one row per message decided on (new_lead, hot, expiring, digest), or per lead held
// for a digest (kind 'held', without a document; 'digested' once its digest is made), kept for an expiry warning
// only ('noted'), or erased with the person's data ('erased'). The key makes each message at most once, ever (a
// digest per rule and day, an expiry warning per rule and lead). Its deliveries are outbox rows naming it.
constexpr const char* kSchema5 = R"sql(
CREATE TABLE notifications (
  id         INTEGER PRIMARY KEY,
  key        TEXT NOT NULL UNIQUE,
  kind       TEXT NOT NULL,
  rule       TEXT NOT NULL,
  day        TEXT NOT NULL,
  lead_seq   INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  document   TEXT
);
CREATE INDEX notifications_day ON notifications(rule, day);
CREATE INDEX notifications_lead ON notifications(lead_seq);
CREATE INDEX notifications_held ON notifications(rule, day) WHERE kind = 'held';
ALTER TABLE deliveries ADD COLUMN notification_id INTEGER;
)sql";

bool to_version_5(sqlite3* db, std::string& error) { return exec(db, kSchema5, error); }

// Personal data: when a lead's contact data was removed (retention or an erasure request); the lead itself stays,
// anonymous, for the figures. The retention pass walks leads by arrival among those not yet cleared; erasure and
// retention find a lead's deliveries by lead.
constexpr const char* kSchema6 = R"sql(
ALTER TABLE lifecycle ADD COLUMN contact_removed_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX lifecycle_retention ON lifecycle(received_at_ms) WHERE contact_removed_at_ms = 0;
-- A lead's deliveries (its own, its events', its notifications'), for erasure, retention and subject access.
CREATE INDEX deliveries_lead ON deliveries(lead_seq);
)sql";

bool to_version_6(sqlite3* db, std::string& error) { return exec(db, kSchema6, error); }

// Lead insights (daemon/insights/): the offer and program of each lead, and the roll-up (insight_sql.hpp).
bool to_version_7(sqlite3* db, std::string& error) { return exec(db, detail::insight_schema_sql().c_str(), error); }

// Narrower insight roll-ups beside insight_cells, so that most reads walk a few thousand cells (insight_sql.hpp).
bool to_version_8(sqlite3* db, std::string& error) {
  return exec(db, detail::insight_narrow_schema_sql().c_str(), error);
}

// Routing batches add their leads to the insight roll-ups a statement per roll-up, not a trigger per lead.
bool to_version_9(sqlite3* db, std::string& error) {
  return exec(db, detail::insight_batch_trigger_sql().c_str(), error);
}

struct Migration {
  int version;
  const char* what;
  bool (*apply)(sqlite3*, std::string&);
};
constexpr Migration kMigrations[] = {
    {1, "version the tables of release 0.1.0", to_version_1},
    {2, "index dead letters", to_version_2},
    {3, "lead lifecycles and their events", to_version_3},
    {4, "Partner Center referral ids", to_version_4},
    {5, "notifications", to_version_5},
    {6, "contact data removal", to_version_6},
    {7, "the insight roll-up", to_version_7},
    {8, "narrower insight roll-ups", to_version_8},
    {9, "insight roll-ups counted per routing batch", to_version_9},
};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration per schema version, in order");

}  // namespace

std::filesystem::path database_path(const std::filesystem::path& state_dir) { return state_dir / "leadrelay.db"; }

MigrateResult migrate(sqlite3* db, std::string& error) {
  const auto version = static_cast<int>(detail::query_int(db, "PRAGMA user_version", -1));
  if (version < 0) {
    error = std::string("cannot read the schema version: ") + sqlite3_errmsg(db);
    return MigrateResult::Failed;
  }
  if (version > kSchemaVersion) {
    error = "the store has schema version " + std::to_string(version) + ", newer than this leadrelay " +
            LEADRELAY_VERSION " knows (" + std::to_string(kSchemaVersion) +
            "); it was written by a newer release and is left untouched: run that release, or restore a backup "
            "taken with this one";
    return MigrateResult::TooNew;
  }
  for (const auto& m : kMigrations) {
    if (m.version <= version) continue;
    // One transaction each: the version moves with the change, or neither does.
    const auto set_version = "PRAGMA user_version = " + std::to_string(m.version);
    std::string ignored;
    if (!exec(db, "BEGIN IMMEDIATE", error) || !m.apply(db, error) || !exec(db, set_version.c_str(), error) ||
        !exec(db, "COMMIT", error)) {
      exec(db, "ROLLBACK", ignored);
      error = "migration to schema version " + std::to_string(m.version) + " (" + m.what + ") failed: " + error;
      return MigrateResult::Failed;
    }
  }
  return MigrateResult::Ok;
}

bool read_store_info(const std::filesystem::path& state_dir, StoreInfo& info, std::string& error) {
  const auto path = database_path(state_dir);
  info.path = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    error = "no store at " + path.string() + " (is state_dir right, and has leadrelay run once?)";
    return false;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot read the store " + path.string() + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return false;
  }
  sqlite3_busy_timeout(db, detail::kBusyTimeoutMs);
  info.schema_version = static_cast<int>(detail::query_int(db, "PRAGMA user_version"));
  info.binary_version = kSchemaVersion;
  info.page_size = detail::query_int(db, "PRAGMA page_size");
  info.pages = detail::query_int(db, "PRAGMA page_count");
  info.free_pages = detail::query_int(db, "PRAGMA freelist_count");
  info.file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  const auto wal = std::filesystem::file_size(path.string() + "-wal", ec);
  info.wal_bytes = ec ? 0 : static_cast<std::int64_t>(wal);
  // Bytes per table and its indexes from dbstat where this SQLite has it; rows always.
  sqlite3_stmt* tables = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1, &tables, nullptr);
  const bool dbstat = detail::query_int(db, "SELECT COUNT(*) FROM dbstat LIMIT 1", -1) >= 0;
  while (tables != nullptr && sqlite3_step(tables) == SQLITE_ROW) {
    TableSize t;
    t.name = detail::column_string(tables, 0);
    t.rows = detail::query_int(db, ("SELECT COUNT(*) FROM \"" + t.name + "\"").c_str());
    if (dbstat) {
      t.bytes = detail::query_int(db, ("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = '" + t.name +
                                       "' OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND "
                                       "tbl_name = '" + t.name + "')").c_str());
    }
    info.tables.push_back(std::move(t));
  }
  sqlite3_finalize(tables);
  sqlite3_close(db);
  return true;
}

std::string format_store_info(const StoreInfo& info) {
  std::ostringstream out;
  out << "store:          " << info.path << "\n"
      << "schema version: " << info.schema_version
      << (info.schema_version == info.binary_version ? " (current)"
          : info.schema_version < info.binary_version ? " (older: migrated at the next start)"
                                                      : " (newer than this binary: it will refuse to open it)")
      << "\n"
      << "file:           " << info.file_bytes << " bytes (" << info.pages << " pages of " << info.page_size
      << " bytes)\n"
      << "free pages:     " << info.free_pages << "\n"
      << "WAL:            " << info.wal_bytes << " bytes\n\n";
  // The table column as wide as the longest name.
  int width = 16;
  for (const auto& t : info.tables) width = std::max(width, static_cast<int>(t.name.size()) + 2);
  out << std::left << std::setw(width) << "table" << std::right << std::setw(12) << "rows" << std::setw(16) << "bytes"
      << "\n";
  for (const auto& t : info.tables) {
    out << std::left << std::setw(width) << t.name << std::right << std::setw(12) << t.rows << std::setw(16)
        << (t.bytes < 0 ? std::string("-") : std::to_string(t.bytes)) << "\n";
  }
  return out.str();
}

}  // namespace leadrelay::store
