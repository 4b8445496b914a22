#pragma once
// Where notifications go (daemon/notify/ decides what and when): one SMTP server (`notifications.email`) and any
// number of Teams or Slack incoming webhooks (`notifications.channels[]`). Declared beside the senders that use them.
#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors::notify {

// The outbox destination of the mail server, and the prefix of every notification destination.
inline constexpr std::string_view kEmailDestination = "notify:email";
inline constexpr std::string_view kDestinationPrefix = "notify:";

struct EmailConfig {
  bool configured = false;
  std::string url;              // smtp://host[:port] (STARTTLS unless starttls: off) or smtps://host[:port]
  std::string from_address;     // leads@example.com
  std::string from_name{};      // the display name, when `from` has one
  bool starttls = true;
  std::string username{}, password{};
  std::string auth = "auto";    // auto | plain | login
  std::filesystem::path ca_file{};
  bool tls_verify = true;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{60000};
  int auth_attempts = 5;        // a refused login is retried this often, then the mail is a dead letter
  bool operator==(const EmailConfig&) const = default;
};

struct ChannelConfig {
  std::string name;
  std::string type;  // teams | slack
  std::string url;   // the incoming webhook's URL (a secret: from a file or the environment)
  std::filesystem::path ca_file{};
  bool tls_verify = true;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
  int line = 0;
  bool operator==(const ChannelConfig&) const = default;
  std::string destination() const { return std::string(kDestinationPrefix) + name; }
};

std::span<const config::KeySpec> email_keys();
std::span<const config::KeySpec> channel_keys();
EmailConfig parse_email_config(config::MapReader& r, const std::filesystem::path& base_dir);
std::vector<ChannelConfig> parse_channels(config::Diagnostics& diagnostics, const YAML::Node& node,
                                          const std::filesystem::path& base_dir);

// "Name <addr@example.com>" or "addr@example.com": false when it is neither (or the address is not one).
bool parse_mailbox(std::string_view text, std::string& name, std::string& address);

}  // namespace leadrelay::connectors::notify
