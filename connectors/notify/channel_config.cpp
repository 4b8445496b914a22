#include "connectors/notify/channel_config.hpp"

#include "connectors/sinks/sink_config.hpp"
#include "daemon/util/strings.hpp"
#include "daemon/validate/email.hpp"

namespace leadrelay::connectors::notify {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kEmailKeys[] = {
    {"url", KeyType::String, "",
     "the mail server: smtp://host:587 (STARTTLS) or smtps://host:465 (TLS from the start)", true},
    {"from", KeyType::String, "", "the sender, \"leadrelay <leads@example.com>\" or leads@example.com", true},
    {"starttls", KeyType::Enum, "required",
     "smtp:// only: required (refuse a server without STARTTLS) or off (plain text: a relay on this host only)", false,
     0, 0, "required|off"},
    {"username", KeyType::String, "", "the SMTP login, when the server wants one"},
    {"password_file", KeyType::String, "", "file holding the SMTP password (first line)"},
    {"password_env", KeyType::String, "", "environment variable holding the SMTP password"},
    {"auth", KeyType::Enum, "auto", "the SASL mechanism: auto (the best the server offers), plain or login", false, 0,
     0, "auto|plain|login"},
    {"ca_file", KeyType::String, "", "PEM file of CA certificates to trust besides the system's"},
    {"tls_verify", KeyType::Boolean, "true", "verify the server's certificate and name (turn off only for tests)"},
    {"connect_timeout", KeyType::Duration, "10s", "deadline to connect and greet", false, 100, 600000},
    {"timeout", KeyType::Duration, "60s", "deadline for one whole message", false, 100, 3600000},
    {"auth_attempts", KeyType::Integer, "5",
     "a login the server refuses is tried this often (with backoff), then the message is a dead letter", false, 1,
     1000},
};

constexpr KeySpec kChannelKeys[] = {
    {"name", KeyType::String, "", "the channel's name, for notifications.rules[].channels, logs and `leadrelay dlq`",
     true},
    {"type", KeyType::Enum, "", "teams (an Adaptive Card) or slack (Block Kit)", true, 0, 0, "teams|slack"},
    {"url_file", KeyType::String, "", "file holding the incoming webhook's URL (it is a secret)"},
    {"url_env", KeyType::String, "", "environment variable holding the incoming webhook's URL"},
    {"ca_file", KeyType::String, "", "PEM file of CA certificates to trust besides the system's"},
    {"tls_verify", KeyType::Boolean, "true", "verify the server's certificate and name (turn off only for tests)"},
    {"connect_timeout", KeyType::Duration, "5s", "deadline to connect", false, 100, 600000},
    {"request_timeout", KeyType::Duration, "15s", "deadline for one post and its answer", false, 100, 600000},
};

std::filesystem::path resolve(const std::string& path, const std::filesystem::path& base_dir) {
  const std::filesystem::path p(path);
  return p.is_relative() ? base_dir / p : p;
}

void read_ca(config::MapReader& r, const std::filesystem::path& base_dir, std::filesystem::path& out) {
  const auto ca = r.string("ca_file");
  if (ca.empty()) return;
  out = resolve(ca, base_dir);
  if (!std::filesystem::exists(out)) r.error("ca_file", "no such file: " + out.string());
}

// One secret from `<key>_file` or `<key>_env`; `required` says so when neither is given.
std::string read_one_secret(config::MapReader& r, const std::string& key, const std::filesystem::path& base_dir,
                            bool required, const std::string& what) {
  const auto file = r.string(key + "_file");
  const auto env = r.string(key + "_env");
  if (!file.empty() && !env.empty()) {
    r.error(key + "_env", "give " + key + "_file or " + key + "_env, not both");
    return {};
  }
  if (file.empty() && env.empty()) {
    if (required) r.error(key + "_file", "needs " + key + "_file or " + key + "_env: " + what);
    return {};
  }
  std::vector<std::string> values;
  std::string error;
  if (!read_secrets(file, env, base_dir, values, error)) {
    r.error(file.empty() ? key + "_env" : key + "_file", error);
    return {};
  }
  return values.front();
}

}  // namespace

std::span<const KeySpec> email_keys() { return kEmailKeys; }
std::span<const KeySpec> channel_keys() { return kChannelKeys; }

bool parse_mailbox(std::string_view text, std::string& name, std::string& address) {
  text = util::trim(text);
  name.clear();
  if (const auto open = text.rfind('<'); open != std::string_view::npos && text.ends_with('>')) {
    name = std::string(util::trim(text.substr(0, open)));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    text = text.substr(open + 1, text.size() - open - 2);
  }
  address = std::string(text);
  for (char c : name) {
    if (c == '\r' || c == '\n' || c == '<' || c == '>') return false;
  }
  // Staff addresses may live on internal or special-use domains (corp.local) that a lead's address may not.
  const auto syntax = validate::check_email_syntax(address);
  return syntax.ok || syntax.reason == "special_use_domain" || syntax.reason == "unknown_tld" ||
         syntax.reason == "domain_dotless";
}

EmailConfig parse_email_config(config::MapReader& r, const std::filesystem::path& base_dir) {
  EmailConfig c;
  c.configured = true;
  c.url = r.string("url");
  if (r.has("url") && c.url.rfind("smtp://", 0) != 0 && c.url.rfind("smtps://", 0) != 0) {
    r.error("url", "expected smtp://host:port (STARTTLS) or smtps://host:port (implicit TLS)");
  }
  if (r.has("from") && !parse_mailbox(r.string("from"), c.from_name, c.from_address)) {
    r.error("from", "'" + r.string("from") + "' is not a mail address; write leads@example.com or "
                                             "\"leadrelay <leads@example.com>\"");
  }
  c.starttls = r.enumeration("starttls") == "required";
  c.username = r.string("username");
  c.password = read_one_secret(r, "password", base_dir, !c.username.empty(), "the login's password");
  if (c.username.empty() && !c.password.empty()) r.error("username", "a password needs its username");
  c.auth = r.enumeration("auth");
  read_ca(r, base_dir, c.ca_file);
  c.tls_verify = r.boolean("tls_verify");
  c.connect_timeout = r.duration("connect_timeout");
  c.timeout = r.duration("timeout");
  c.auth_attempts = static_cast<int>(r.integer("auth_attempts"));
  return c;
}

std::vector<ChannelConfig> parse_channels(config::Diagnostics& diagnostics, const YAML::Node& node,
                                          const std::filesystem::path& base_dir) {
  std::vector<ChannelConfig> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    diagnostics.add(node.Mark(), "notifications.channels", "expected a list of channels (each starts with '- name:')");
    return out;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    config::MapReader r(diagnostics, node[i], "notifications.channels[" + std::to_string(i) + "]", kChannelKeys);
    ChannelConfig c;
    c.line = static_cast<int>(node[i].Mark().line) + 1;
    c.name = r.string("name");
    c.type = r.enumeration("type");
    if (c.name == "email") r.error("name", "'email' names the mail server (notifications.email); pick another name");
    for (const auto& earlier : out) {
      if (!c.name.empty() && earlier.name == c.name) {
        r.error("name", "a second channel named '" + c.name + "' (the first is on line " + std::to_string(earlier.line) +
                            ")");
      }
    }
    c.url = read_one_secret(r, "url", base_dir, true, "the incoming webhook's URL");
    if (!c.url.empty() && c.url.rfind("https://", 0) != 0 && c.url.rfind("http://", 0) != 0) {
      r.error(r.has("url_file") ? "url_file" : "url_env", "the webhook URL must start with https://");
    }
    read_ca(r, base_dir, c.ca_file);
    c.tls_verify = r.boolean("tls_verify");
    c.connect_timeout = r.duration("connect_timeout");
    c.request_timeout = r.duration("request_timeout");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace leadrelay::connectors::notify
