#pragma once
// The store's schema, versioned by PRAGMA user_version, and the migrations that bring an older store to it.
// Opening a store runs, in order and each in one transaction, every migration from its version to
// kSchemaVersion; a store newer than this binary is refused untouched.
#include <filesystem>
#include <string>

#include "daemon/store/records.hpp"

struct sqlite3;

namespace leadrelay::store {

// 0: release 0.1.0, which kept no version (its tables are migration 1's); 1: the same tables, versioned;
// 2: an index for dead letters; 3: lifecycles; 4: referral ids; 5: notifications; 6: contact data removal;
// 7: the insight roll-up; 8: the narrow roll-ups; 9: the roll-ups counted per routing batch.
inline constexpr int kSchemaVersion = 9;

enum class MigrateResult { Ok, Failed, TooNew };

// Brings the open read-write connection's store to kSchemaVersion. Failed or TooNew: `error` says why.
MigrateResult migrate(sqlite3* db, std::string& error);

std::filesystem::path database_path(const std::filesystem::path& state_dir);

// Reads sizes and versions of the store in state_dir (read-only: works beside a running daemon).
bool read_store_info(const std::filesystem::path& state_dir, StoreInfo& info, std::string& error);
// The same as text for a person: one "key: value" line each, then a table of tables.
std::string format_store_info(const StoreInfo& info);

}  // namespace leadrelay::store
