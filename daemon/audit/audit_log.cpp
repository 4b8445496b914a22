#include "daemon/audit/audit_log.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "daemon/log/log.hpp"
#include "daemon/util/json_write.hpp"

namespace leadrelay::audit {

std::filesystem::path AuditLog::path(const std::filesystem::path& state_dir) { return state_dir / "audit.log"; }

std::unique_ptr<AuditLog> AuditLog::open(const std::filesystem::path& state_dir, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  const auto p = path(state_dir);
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open " + p.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd));
}

AuditLog::~AuditLog() { ::close(fd_); }

bool AuditLog::append(const Entry& e, std::string& error) {
  rapidjson::StringBuffer buffer;
  util::json::Writer w(buffer);
  w.StartObject();
  util::json::string(w, "at", log::format_utc_ms(log::now_unix_ms()));
  util::json::string(w, "actor", e.actor);
  util::json::string(w, "action", e.action);
  util::json::key(w, "lead_ids");
  w.StartArray();
  for (const auto& id : e.lead_ids) w.String(id.c_str(), static_cast<rapidjson::SizeType>(id.size()));
  w.EndArray();
  util::json::key(w, "count");
  w.Int64(e.count >= 0 ? e.count : static_cast<std::int64_t>(e.lead_ids.size()));
  if (!e.detail.empty()) util::json::string(w, "detail", e.detail);
  w.EndObject();
  std::string line(buffer.GetString(), buffer.GetSize());
  line += '\n';
  std::lock_guard lock(mutex_);
  const auto n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    error = std::string("cannot append to the audit log: ") + (n < 0 ? std::strerror(errno) : "short write");
    return false;
  }
  if (e.durable && ::fdatasync(fd_) != 0) {
    error = std::string("cannot flush the audit log: ") + std::strerror(errno);
    return false;
  }
  return true;
}

std::string cli_actor() {
  const auto uid = ::getuid();
  if (const auto* pw = ::getpwuid(uid); pw != nullptr && pw->pw_name != nullptr) return std::string("cli:") + pw->pw_name;
  return "cli:uid" + std::to_string(uid);
}

}  // namespace leadrelay::audit
