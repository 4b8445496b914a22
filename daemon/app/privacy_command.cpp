#include "daemon/app/privacy_command.hpp"

#include <fstream>
#include <iostream>
#include <string>

#include "daemon/app/config.hpp"
#include "daemon/app/run.hpp"
#include "daemon/audit/audit_log.hpp"
#include "daemon/store/backup.hpp"

namespace leadrelay::app {
namespace {

struct Target {
  std::string state_dir;
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;  // the command's own --name value pairs
  int exit = -1;                                             // set when parsing failed
};

// [--config FILE | --state-dir DIR] plus the command's own options (`own`, each taking a value) and positionals.
Target parse(std::string_view command, const std::vector<std::string_view>& args,
             std::initializer_list<std::string_view> own) {
  Target t;
  std::string file = "/etc/leadrelay/config.yaml";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto a = args[i];
    if (a == "--config" && i + 1 < args.size()) {
      file = std::string(args[++i]);
    } else if (a == "--state-dir" && i + 1 < args.size()) {
      t.state_dir = std::string(args[++i]);
    } else if (a.rfind("--", 0) == 0 && i + 1 < args.size() &&
               std::find(own.begin(), own.end(), a.substr(2)) != own.end()) {
      t.options.emplace_back(std::string(a.substr(2)), std::string(args[++i]));
    } else if (a.rfind("--", 0) == 0) {
      std::cerr << "leadrelay " << command << ": unknown option " << a << "\n";
      t.exit = kExitUsage;
      return t;
    } else {
      t.positional.emplace_back(a);
    }
  }
  if (t.state_dir.empty()) {
    const auto result = load_config_file(file);
    if (!result.config) {
      for (const auto& d : result.errors) std::cerr << d.to_string() << "\n";
      t.exit = kExitConfig;
      return t;
    }
    t.state_dir = result.config->state_dir.string();
  }
  return t;
}

bool record(const std::string& state_dir, const std::string& action, const std::string& detail) {
  std::string error;
  auto log = audit::AuditLog::open(state_dir, error);
  audit::Entry e{audit::cli_actor(), action, {}, 0, detail, true};
  if (!log || !log->append(e, error)) {
    std::cerr << "leadrelay " << action << ": the audit trail: " << error << "\n";
    return false;
  }
  return true;
}

}  // namespace

int backup_command(const std::vector<std::string_view>& args) {
  auto t = parse("backup", args, {});
  if (t.exit >= 0) return t.exit;
  if (t.positional.size() != 1) {
    std::cerr << "usage: leadrelay backup FILE [--config FILE | --state-dir DIR]\n";
    return kExitUsage;
  }
  store::BackupInfo info;
  std::string error;
  if (!store::backup(t.state_dir, t.positional[0], info, error)) {
    std::cerr << "leadrelay backup: " << error << "\n";
    return kExitCantCreate;
  }
  if (!record(t.state_dir, "backup", t.positional[0])) return kExitCantCreate;
  std::cout << "backup: " << t.positional[0] << ": " << info.leads << " leads (up to seq " << info.last_seq
            << "), schema version " << info.schema_version << ", " << info.bytes << " bytes\n";
  return kExitOk;
}

int restore_command(const std::vector<std::string_view>& args) {
  auto t = parse("restore", args, {});
  if (t.exit >= 0) return t.exit;
  if (t.positional.size() != 1) {
    std::cerr << "usage: leadrelay restore FILE [--config FILE | --state-dir DIR]   (leadrelay stopped)\n";
    return kExitUsage;
  }
  store::BackupInfo info;
  std::string error;
  if (!store::restore(t.positional[0], t.state_dir, info, error)) {
    std::cerr << "leadrelay restore: " << error << "\n";
    return kExitCantCreate;
  }
  if (!record(t.state_dir, "restore", t.positional[0])) return kExitCantCreate;
  std::cout << "restored " << t.positional[0] << " into " << t.state_dir << ": " << info.leads << " leads, schema version "
            << info.schema_version << " (migrated at the next start when older)\n";
  return kExitOk;
}

int audit_command(const std::vector<std::string_view>& args) {
  auto t = parse("audit", args, {"action", "actor", "lead-id", "since"});
  if (t.exit >= 0) return t.exit;
  const auto file = audit::AuditLog::path(t.state_dir);
  std::ifstream in(file);
  if (!in) {
    std::cerr << "leadrelay audit: no audit trail at " << file.string() << " (nothing was audited yet)\n";
    return kExitCantCreate;
  }
  std::string line;
  while (std::getline(in, line)) {
    bool keep = true;
    for (const auto& [name, value] : t.options) {
      if (name == "action") keep = keep && line.find("\"action\":\"" + value + "\"") != std::string::npos;
      if (name == "actor") keep = keep && line.find("\"actor\":\"" + value + "\"") != std::string::npos;
      if (name == "lead-id") keep = keep && line.find("\"" + value + "\"") != std::string::npos;
      // Lines start {"at":"<ISO time>": entries at or after --since (a date or a time) compare as text.
      if (name == "since") keep = keep && line.size() > 7 && line.substr(7, value.size()) >= value;
    }
    if (keep) std::cout << line << "\n";
  }
  return kExitOk;
}

}  // namespace leadrelay::app
