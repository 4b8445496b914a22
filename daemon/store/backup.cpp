#include "daemon/store/backup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "daemon/store/intake_log.hpp"
#include "daemon/store/schema.hpp"
#include "daemon/store/sqlite.hpp"

namespace leadrelay::store {
namespace {

struct Db {
  sqlite3* db = nullptr;
  ~Db() {
    if (db != nullptr) sqlite3_close(db);
  }
};

bool fsync_path(const std::filesystem::path& p, bool directory, std::string& error) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    error = "cannot flush " + p.string() + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

// Copies every page of `from` into a new database at `to` in one step.
bool copy(sqlite3* from, const std::filesystem::path& to, std::string& error) {
  std::filesystem::remove(to);
  Db dest;
  if (sqlite3_open_v2(to.c_str(), &dest.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    error = "cannot create " + to.string() + ": " + sqlite3_errmsg(dest.db);
    return false;
  }
  sqlite3_backup* b = sqlite3_backup_init(dest.db, "main", from, "main");
  if (b == nullptr) {
    error = std::string("cannot start the copy: ") + sqlite3_errmsg(dest.db);
    return false;
  }
  int rc;
  while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    error = std::string("the copy failed: ") + sqlite3_errstr(rc);
    return false;
  }
  // The copy keeps the source's WAL mode; fold it into one file so that it can be moved and copied as one.
  return detail::exec(dest.db, "PRAGMA journal_mode = DELETE", error);
}

bool describe(const std::filesystem::path& file, BackupInfo& info, std::string& error) {
  Db db;
  if (sqlite3_open_v2(file.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot open " + file.string() + ": " + sqlite3_errmsg(db.db);
    return false;
  }
  sqlite3_stmt* check = nullptr;
  if (sqlite3_prepare_v2(db.db, "PRAGMA integrity_check", -1, &check, nullptr) != SQLITE_OK ||
      sqlite3_step(check) != SQLITE_ROW) {
    error = file.string() + " is not a leadrelay store: " + sqlite3_errmsg(db.db);
    sqlite3_finalize(check);
    return false;
  }
  const std::string verdict(reinterpret_cast<const char*>(sqlite3_column_text(check, 0)));
  sqlite3_finalize(check);
  if (verdict != "ok") {
    error = file.string() + " is damaged: " + verdict;
    return false;
  }
  info.schema_version = static_cast<int>(detail::query_int(db.db, "PRAGMA user_version", -1));
  info.leads = detail::query_int(db.db, "SELECT COUNT(*) FROM leads", -1);
  info.last_seq = detail::query_int(db.db, "SELECT COALESCE(MAX(seq), 0) FROM leads", -1);
  if (info.leads < 0) {
    error = file.string() + " holds no leads table: not a leadrelay store";
    return false;
  }
  if (info.schema_version > kSchemaVersion) {
    error = file.string() + " has schema version " + std::to_string(info.schema_version) + ", newer than this leadrelay's " +
            std::to_string(kSchemaVersion) + ": restore it with that release";
    return false;
  }
  info.bytes = static_cast<std::int64_t>(std::filesystem::file_size(file));
  return true;
}

// The leads in the intake log (state_dir/intake-log), as they are now. Read before the store is copied: a segment
// deleted meanwhile was all in the store first, so it is in the copy; a lead the log still holds is added from here.
bool read_intake_log(const std::filesystem::path& state_dir, std::vector<Entry>& out, std::string& error) {
  const auto dir = state_dir / "intake-log";
  std::vector<std::filesystem::path> segments;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(dir, ec)) {
    if (item.path().extension() == ".log") segments.push_back(item.path());
  }
  std::sort(segments.begin(), segments.end());
  for (std::size_t i = 0; i < segments.size(); ++i) {
    std::string bytes;
    {
      std::ifstream in(segments[i], std::ios::binary);
      if (!in) continue;  // deleted since the listing: its leads are in the store
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto result = intake_log::scan(bytes, true, [&out](std::size_t, std::string_view payload) {
      Entry e;
      if (!intake_log::decode(payload, e, nullptr)) return false;
      out.push_back(std::move(e));
      return true;
    });
    // The newest segment may end in the write being made right now; any other damage is the daemon's to report.
    if (result.status == intake_log::ScanStatus::Corrupt && i + 1 < segments.size()) {
      error = "the intake log segment " + segments[i].string() + " is damaged: " + result.problem;
      return false;
    }
  }
  return true;
}

// Adds to the copy the leads from the intake log it does not hold yet, as the log's mover would.
bool add_logged_leads(const std::filesystem::path& file, const std::vector<Entry>& entries, std::string& error) {
  if (entries.empty()) return true;
  Db db;
  if (sqlite3_open_v2(file.c_str(), &db.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    error = "cannot open " + file.string() + ": " + sqlite3_errmsg(db.db);
    return false;
  }
  sqlite3_stmt* lead = nullptr;
  sqlite3_stmt* key = nullptr;
  bool ok = detail::exec(db.db, "BEGIN", error) &&
            sqlite3_prepare_v2(db.db, detail::kInsertLeadSql, -1, &lead, nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db.db, detail::kPutReplayKeySql, -1, &key, nullptr) == SQLITE_OK;
  for (const auto& e : entries) {
    if (!ok) break;
    sqlite3_bind_text(lead, 1, e.lead_id.data(), static_cast<int>(e.lead_id.size()), SQLITE_STATIC);
    sqlite3_bind_text(lead, 2, e.source.data(), static_cast<int>(e.source.size()), SQLITE_STATIC);
    sqlite3_bind_int64(lead, 3, e.received_at_ms);
    sqlite3_bind_blob(lead, 4, e.raw.data(), static_cast<int>(e.raw.size()), SQLITE_STATIC);
    sqlite3_bind_text(lead, 5, e.format.data(), static_cast<int>(e.format.size()), SQLITE_STATIC);
    ok = sqlite3_step(lead) == SQLITE_DONE;
    const bool added = ok && sqlite3_changes(db.db) > 0;
    sqlite3_reset(lead);
    if (ok && added && !e.replay_key.empty()) {
      sqlite3_bind_text(key, 1, e.replay_key.data(), static_cast<int>(e.replay_key.size()), SQLITE_STATIC);
      sqlite3_bind_text(key, 2, e.lead_id.data(), static_cast<int>(e.lead_id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(key, 3, e.replay_expires_ms);
      ok = sqlite3_step(key) == SQLITE_DONE;
      sqlite3_reset(key);
    }
  }
  if (!ok && error.empty()) error = std::string("cannot add the intake log's leads to the copy: ") + sqlite3_errmsg(db.db);
  sqlite3_finalize(lead);
  sqlite3_finalize(key);
  return ok && detail::exec(db.db, "COMMIT", error);
}

}  // namespace

bool backup(const std::filesystem::path& state_dir, const std::filesystem::path& file, BackupInfo& info,
            std::string& error) {
  const auto source = database_path(state_dir);
  if (!std::filesystem::exists(source)) {
    error = "no store at " + source.string();
    return false;
  }
  Db db;
  if (sqlite3_open_v2(source.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot open " + source.string() + ": " + sqlite3_errmsg(db.db);
    return false;
  }
  sqlite3_busy_timeout(db.db, detail::kBusyTimeoutMs);
  std::vector<Entry> logged;
  if (!read_intake_log(state_dir, logged, error)) return false;
  const auto tmp = std::filesystem::path(file.string() + ".partial");
  if (!copy(db.db, tmp, error) || !add_logged_leads(tmp, logged, error) || !describe(tmp, info, error) ||
      !fsync_path(tmp, false, error)) {
    std::filesystem::remove(tmp);
    return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    error = "cannot move the copy to " + file.string() + ": " + ec.message();
    return false;
  }
  return fsync_path(std::filesystem::absolute(file).parent_path(), true, error);
}

bool restore(const std::filesystem::path& file, const std::filesystem::path& state_dir, BackupInfo& info,
             std::string& error) {
  const auto target = database_path(state_dir);
  for (const auto& p : {target, std::filesystem::path(target.string() + "-wal")}) {
    if (std::filesystem::exists(p)) {
      error = state_dir.string() + " already holds a store (" + p.filename().string() +
              "); restore into an empty state_dir, or move the old one away first";
      return false;
    }
  }
  if (!describe(file, info, error)) return false;
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  Db db;
  if (sqlite3_open_v2(file.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot open " + file.string() + ": " + sqlite3_errmsg(db.db);
    return false;
  }
  const auto tmp = std::filesystem::path(target.string() + ".restoring");
  if (!copy(db.db, tmp, error) || !fsync_path(tmp, false, error)) {
    std::filesystem::remove(tmp);
    return false;
  }
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    error = "cannot move the restored store into place: " + ec.message();
    return false;
  }
  return fsync_path(state_dir, true, error);
}

}  // namespace leadrelay::store
