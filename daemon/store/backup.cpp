#include "daemon/store/backup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
  const auto tmp = std::filesystem::path(file.string() + ".partial");
  if (!copy(db.db, tmp, error) || !describe(tmp, info, error) || !fsync_path(tmp, false, error)) {
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
