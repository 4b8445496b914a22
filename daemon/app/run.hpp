#pragma once
#include "daemon/app/config.hpp"

namespace leadrelay::app {

// Exit codes (sysexits.h), so that systemd and scripts can tell a bad config from a crash.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitUnavailable = 69;  // a listen address cannot be bound
inline constexpr int kExitCantCreate = 73;   // the store cannot be opened
inline constexpr int kExitConfig = 78;       // the configuration is invalid

// Runs the daemon until SIGTERM or SIGINT; returns the process exit code.
int run_daemon(const app::Config& config);

}  // namespace leadrelay::app
