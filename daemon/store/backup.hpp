#pragma once
// Backups of the store: a consistent copy taken while the daemon runs, and a restore into an empty state_dir.
// The copy is SQLite's online backup API from a read-only connection, all pages in one step: one read
// transaction, so the copy is the store as of one commit, while
// intake and the workers go on writing. Leads acknowledged but still in the intake log (state_dir/intake-log, read
// just before the copy) are added to the copy, so every lead answered 2xx before the backup began is in it.
#include <cstdint>
#include <filesystem>
#include <string>

namespace leadrelay::store {

struct BackupInfo {
  std::int64_t leads = 0;     // journaled leads in the copy
  std::int64_t last_seq = 0;  // the newest of them
  std::int64_t bytes = 0;     // the copy's size
  int schema_version = 0;
};

// Copies the store of `state_dir` to `file` (written beside it, flushed, then renamed into place).
bool backup(const std::filesystem::path& state_dir, const std::filesystem::path& file, BackupInfo& info,
            std::string& error);
// Checks `file` (a backup: integrity, a schema this binary knows) and makes it the store of `state_dir`, which must
// hold no store yet.
bool restore(const std::filesystem::path& file, const std::filesystem::path& state_dir, BackupInfo& info,
             std::string& error);

}  // namespace leadrelay::store
