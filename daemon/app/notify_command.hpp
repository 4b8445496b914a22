#pragma once
// `leadrelay notify test --config FILE [--to ADDR]`: sends one sample message over each configured notification
// channel (the mail server, each Teams and Slack webhook) and prints what each answered, so an admin can check the
// server, the login and the webhook URLs before a real lead depends on them.
#include <string_view>
#include <vector>

namespace leadrelay::app {

// Exit codes: 0 every channel took its message, 64 usage, 69 a channel refused or could not be reached, 78
// invalid config (or no notifications section).
int notify_command(const std::vector<std::string_view>& args);

}  // namespace leadrelay::app
