#pragma once
// The `server:` section: what the HTTP listener binds to and the limits it enforces on every client.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::http {

struct ListenAddress {
  std::string host;  // an IP literal; IPv6 without brackets
  std::uint16_t port = 0;
  std::string text;  // as written, for messages
  bool operator==(const ListenAddress&) const = default;
};

struct ServerConfig {
  std::vector<ListenAddress> listen;
  int io_threads = 1;
  std::uint64_t max_body_bytes = 0;
  std::uint64_t max_header_bytes = 0;
  std::uint64_t max_connections = 0;
  // TLS in-process: certificate chain and key (PEM), re-read on SIGHUP; with a client CA, clients must present a
  // certificate it signed. Empty: plain HTTP (TLS ends at a proxy in front).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  double client_rate_limit = 0;  // requests per second per client address; 0: no limit
  double client_rate_burst = 0;
  std::chrono::milliseconds header_timeout{0};
  std::chrono::milliseconds body_timeout{0};
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds write_timeout{0};
  std::chrono::milliseconds shutdown_grace{0};
  bool operator==(const ServerConfig&) const = default;
};

std::span<const config::KeySpec> server_keys();
ServerConfig parse_server_config(config::MapReader& reader, const std::filesystem::path& base_dir = {});

// One `admin.tokens[]` entry: who presents it (its name, in logs and lifecycle events), what it may do, and the
// SHA-256 of the secret (the secret itself is not kept), read from token_file or token_env at load.
struct AdminToken {
  std::string name;
  std::string role;  // viewer | referrals_admin | operator
  std::string digest;  // SHA-256 of the token, 32 bytes
  bool operator==(const AdminToken&) const = default;
};

// The `admin:` section: the listener for operators (metrics, status, dead letters) and the leads API.
struct AdminConfig {
  ListenAddress listen;
  std::string tls_cert_file;  // HTTPS when set (PEM chain and key, read at start)
  std::string tls_key_file;
  std::vector<AdminToken> tokens;
  bool operator==(const AdminConfig&) const = default;
};
std::span<const config::KeySpec> admin_keys();
std::span<const config::KeySpec> admin_token_keys();
AdminConfig parse_admin_config(config::MapReader& reader, const std::filesystem::path& base_dir = {});

// Parses "127.0.0.1:8080", "[::1]:8080" or "0.0.0.0:0"; false with a message naming the problem.
bool parse_listen_address(std::string_view text, ListenAddress& out, std::string& error);

}  // namespace leadrelay::http
