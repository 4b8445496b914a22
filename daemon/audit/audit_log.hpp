#pragma once
// The audit trail (state_dir/audit.log): who read contact data, changed, exported or erased leads, and who took or
// restored a backup, one JSON line each: {"at", "actor", "action", "lead_ids": [...], "count", "detail"}. Never
// contact data: leads are named by id, people not at all. Kept apart from the operational log (stderr/journald)
// so that it can be kept longer and read on its own with `leadrelay audit`. Appends are atomic lines (O_APPEND,
// one write each); changes, erasures and backups are flushed to disk before the action is answered.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace leadrelay::audit {

struct Entry {
  std::string actor;   // the token's name ("crm-team"), or "cli:<user>" for commands run on the host
  std::string action;  // read, list, export, accept, decline, ..., erase, export-person, backup, restore
  std::vector<std::string> lead_ids{};
  std::int64_t count = -1;  // how many leads the action touched, when not all are listed (-1: lead_ids.size())
  std::string detail{};     // what else matters (a filter, a file name); never contact data
  bool durable = false;     // flushed to disk before append returns
};

class AuditLog {
 public:
  // Opens (creating, mode 0600) state_dir/audit.log for appending; null with `error`.
  static std::unique_ptr<AuditLog> open(const std::filesystem::path& state_dir, std::string& error);
  ~AuditLog();
  // Thread-safe. False (with `error`) when the line could not be written.
  bool append(const Entry& entry, std::string& error);
  static std::filesystem::path path(const std::filesystem::path& state_dir);

 private:
  explicit AuditLog(int fd) : fd_(fd) {}
  std::mutex mutex_;
  int fd_;
};

// The actor of a command run on the host: "cli:<user name>" (or the uid).
std::string cli_actor();

}  // namespace leadrelay::audit
