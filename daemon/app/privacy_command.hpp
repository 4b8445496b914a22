#pragma once
// The data-protection commands run on the host: `leadrelay backup FILE`, `leadrelay restore FILE` and
// `leadrelay audit`, each with [--config FILE | --state-dir DIR] (default /etc/leadrelay/config.yaml). Backups and
// restores are written to the audit trail with the host user as actor.
#include <string_view>
#include <vector>

namespace leadrelay::app {

// Exit codes: 0 ok, 64 usage, 73 the store or the file cannot be read or written, 78 invalid config.
int backup_command(const std::vector<std::string_view>& args);
int restore_command(const std::vector<std::string_view>& args);
int audit_command(const std::vector<std::string_view>& args);

}  // namespace leadrelay::app
