#pragma once
// The commands that talk to a running daemon's admin listener: status, dlq, leads and export. Each finds the
// listener from --admin ADDR or the config file's admin section (--config FILE, default /etc/leadrelay/config.yaml;
// only that section is read, so an operator needs no access to the sources' secrets), speaks TLS when that section
// names a certificate (trusting exactly it), and sends the token from --token-file FILE or LEADRELAY_TOKEN.
#include <string_view>
#include <vector>

namespace leadrelay::app {

using Args = std::vector<std::string_view>;

int status_command(const Args& args);
int dlq_command(const Args& args);
int leads_command(const Args& args);
int export_command(const Args& args);
// `leadrelay forget --email A | --phone N | --lead-id ID` (POST /api/v1/privacy/erase) and
// `leadrelay export-person --email A | --phone N | --lead-id ID` (GET /api/v1/privacy/person).
int forget_command(const Args& args);
int export_person_command(const Args& args);

}  // namespace leadrelay::app
