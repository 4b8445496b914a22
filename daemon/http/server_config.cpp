#include "daemon/http/server_config.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <set>

#include "daemon/intake/source_config.hpp"
#include "daemon/util/digest.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::http {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kServerKeys[] = {
    {"listen", KeyType::StringList, "127.0.0.1:8080",
     "addresses to accept webhooks on, as IP:PORT or [IPv6]:PORT; port 0 picks a free port"},
    {"io_threads", KeyType::Integer, "1", "threads that run the HTTP listener", false, 1, 64},
    {"max_body_bytes", KeyType::Size, "64KiB", "largest request body accepted; larger ones get 413", false, 1024,
     64 << 20},
    {"max_header_bytes", KeyType::Size, "8KiB", "largest request head (request line and headers); larger get 431",
     false, 1024, 1 << 20},
    {"max_connections", KeyType::Integer, "10000", "open client connections at most; more are closed at once",
     false, 1, 1000000},
    {"tls_cert_file", KeyType::String, "",
     "serve HTTPS: PEM certificate chain (re-read on SIGHUP, so renewed certificates apply without a restart)"},
    {"tls_key_file", KeyType::String, "", "the certificate's PEM private key"},
    {"tls_client_ca_file", KeyType::String, "",
     "require client certificates signed by these CAs (PEM); empty: no client certificates asked"},
    {"client_rate_limit", KeyType::Integer, "0",
     "lead requests per second one client address may make on average (token bucket); more get 429 with "
     "Retry-After; 0: no limit", false, 0, 1000000},
    {"client_rate_burst", KeyType::Integer, "0", "requests in a burst above client_rate_limit (default: twice the "
                                                 "rate)", false, 0, 1000000},
    {"header_timeout", KeyType::Duration, "10s",
     "time a client has to send a whole request head; slower clients are cut off", false, 100, 3600000},
    {"body_timeout", KeyType::Duration, "30s", "time a client has to send the body once the head is read", false,
     100, 3600000},
    {"idle_timeout", KeyType::Duration, "60s", "how long a keep-alive connection may wait for its next request",
     false, 100, 86400000},
    {"write_timeout", KeyType::Duration, "30s", "time a client has to read a response", false, 100, 3600000},
    {"shutdown_grace", KeyType::Duration, "10s",
     "on SIGTERM, how long in-flight requests may take to finish before connections are closed", false, 0,
     3600000},
};
constexpr KeySpec kAdminKeys[] = {
    {"listen", KeyType::String, "127.0.0.1:9464",
     "address of the admin listener (/metrics, /healthz, /readyz, /status, /dlq and the leads API /api/v1); keep "
     "it on loopback or a private network, or serve TLS"},
    {"tls_cert_file", KeyType::String, "", "serve the admin listener over HTTPS: PEM certificate chain"},
    {"tls_key_file", KeyType::String, "", "the certificate's PEM private key"},
    {"tokens", KeyType::SectionList, "",
     "bearer tokens for /status, /dlq and the leads API, each with a name and a role; without any, only /metrics, "
     "/healthz and /readyz answer"},
};
constexpr KeySpec kAdminTokenKeys[] = {
    {"name", KeyType::String, "", "who holds the token: logged with every change it makes (never the token)", true},
    {"role", KeyType::Enum, "",
     "viewer: read leads and exports; referrals_admin: also change leads; operator: status and dead letters", true,
     0, 0, "viewer|referrals_admin|operator"},
    {"token_file", KeyType::String, "", "file holding the token (one line; relative to the config file)"},
    {"token_env", KeyType::String, "", "environment variable holding the token"},
};
constexpr std::size_t kMinTokenBytes = 16;

std::vector<AdminToken> parse_tokens(config::MapReader& admin, const std::filesystem::path& base_dir) {
  std::vector<AdminToken> out;
  const auto node = admin.child("tokens");
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    admin.error("tokens", "expected a list of tokens (each item starts with '- name:')");
    return out;
  }
  std::set<std::string> names, digests;
  for (std::size_t i = 0; i < node.size(); ++i) {
    config::MapReader r(admin.diagnostics(), node[i], "admin.tokens[" + std::to_string(i) + "]", kAdminTokenKeys);
    AdminToken t;
    t.name = r.string("name");
    t.role = r.enumeration("role");
    if (r.has("name") && (t.name.empty() || t.name.size() > 64 || t.name.find_first_of(" \t\r\n\"") != std::string::npos)) {
      r.error("name", "use 1 to 64 characters without spaces or quotes");
    } else if (r.has("name") && !names.insert(t.name).second) {
      r.error("name", "another token is already named '" + t.name + "'");
    }
    const auto file = r.string("token_file");
    const auto env = r.string("token_env");
    if (file.empty() == env.empty()) {
      r.error(file.empty() ? "name" : "token_env",
              "give exactly one of token_file or token_env; tokens are never written in the config itself");
      continue;
    }
    std::vector<std::string> secrets;
    std::string problem, key = file.empty() ? "token_env" : "token_file";
    if (!file.empty()) {
      std::filesystem::path p(file);
      if (p.is_relative()) p = base_dir / p;
      if (!intake::read_secret_file(p, secrets, problem)) {
        r.error(key, problem + "; create it with: openssl rand -hex 32 > " + p.string());
        continue;
      }
    } else if (const char* value = std::getenv(env.c_str()); value != nullptr) {
      secrets.emplace_back(util::trim(value));
    } else {
      r.error(key, "environment variable " + env + " is not set; export it before starting leadrelay");
      continue;
    }
    if (secrets.size() != 1 || secrets.front().size() < kMinTokenBytes) {
      r.error(key, "needs exactly one token of at least 16 characters; make one with: openssl rand -hex 32");
      continue;
    }
    const auto digest = util::sha256(secrets.front());
    t.digest.assign(digest.begin(), digest.end());
    if (!digests.insert(t.digest).second) r.error(key, "the same token is given to another entry; use one each");
    out.push_back(std::move(t));
  }
  return out;
}
}  // namespace

std::span<const KeySpec> server_keys() { return kServerKeys; }
std::span<const KeySpec> admin_keys() { return kAdminKeys; }
std::span<const KeySpec> admin_token_keys() { return kAdminTokenKeys; }

AdminConfig parse_admin_config(config::MapReader& r, const std::filesystem::path& base_dir) {
  AdminConfig c;
  std::string problem;
  if (!parse_listen_address(r.string("listen"), c.listen, problem)) r.error("listen", problem);
  const auto resolve = [&](const std::string& f) {
    return f.empty() || std::filesystem::path(f).is_absolute() ? f : (base_dir / f).string();
  };
  c.tls_cert_file = resolve(r.string("tls_cert_file"));
  c.tls_key_file = resolve(r.string("tls_key_file"));
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    r.error(c.tls_cert_file.empty() ? "tls_key_file" : "tls_cert_file", "give both tls_cert_file and tls_key_file");
  }
  c.tokens = parse_tokens(r, base_dir);
  return c;
}

bool parse_listen_address(std::string_view text, ListenAddress& out, std::string& error) {
  const std::string hint = "; expected IP:PORT such as 127.0.0.1:8080 or [::]:8080";
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "invalid listen address '" + std::string(text) + "'" + hint;
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      error = "invalid listen address '" + std::string(text) + "': missing port" + hint;
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned long long port_number = 0;
  if (!util::parse_u64(port, port_number) || port_number > 65535) {
    error = "invalid listen address '" + std::string(text) + "': port must be 0 to 65535" + hint;
    return false;
  }
  unsigned char buf[16];
  const std::string host_str(host);
  if (inet_pton(AF_INET, host_str.c_str(), buf) != 1 && inet_pton(AF_INET6, host_str.c_str(), buf) != 1) {
    error = "invalid listen address '" + std::string(text) + "': '" + host_str + "' is not an IP address" + hint;
    return false;
  }
  out.host = host_str;
  out.port = static_cast<std::uint16_t>(port_number);
  out.text = std::string(text);
  return true;
}

ServerConfig parse_server_config(config::MapReader& r, const std::filesystem::path& base_dir) {
  ServerConfig c;
  const auto file = [&](const char* key) {
    const auto value = r.string(key);
    if (value.empty()) return value;
    const std::filesystem::path p(value);
    const auto full = (p.is_relative() ? base_dir / p : p).string();
    if (!std::filesystem::exists(full)) r.error(key, "no such file: " + full);
    return full;
  };
  c.tls_cert_file = file("tls_cert_file");
  c.tls_key_file = file("tls_key_file");
  c.tls_client_ca_file = file("tls_client_ca_file");
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    r.error(c.tls_cert_file.empty() ? "tls_key_file" : "tls_cert_file", "TLS needs both tls_cert_file and tls_key_file");
  }
  if (!c.tls_client_ca_file.empty() && c.tls_cert_file.empty()) {
    r.error("tls_client_ca_file", "client certificates need TLS: set tls_cert_file and tls_key_file too");
  }
  const auto listen = r.string_list("listen");
  const auto listen_node = r.child("listen");
  for (std::size_t i = 0; i < listen.size(); ++i) {
    ListenAddress address;
    std::string problem;
    if (parse_listen_address(listen[i], address, problem)) {
      c.listen.push_back(std::move(address));
    } else {
      const bool listed = listen_node.IsSequence();
      r.diagnostics().add(listed ? listen_node[i].Mark() : r.mark_of("listen"),
                          listed ? r.path_of("listen") + "[" + std::to_string(i) + "]" : r.path_of("listen"),
                          problem);
    }
  }
  if (listen.empty()) r.error("listen", "needs at least one address, such as 127.0.0.1:8080");
  c.io_threads = static_cast<int>(r.integer("io_threads"));
  c.max_body_bytes = r.size("max_body_bytes");
  c.max_header_bytes = r.size("max_header_bytes");
  c.max_connections = static_cast<std::uint64_t>(r.integer("max_connections"));
  c.client_rate_limit = static_cast<double>(r.integer("client_rate_limit"));
  c.client_rate_burst =
      r.has("client_rate_burst") ? static_cast<double>(r.integer("client_rate_burst")) : 2 * c.client_rate_limit;
  c.header_timeout = r.duration("header_timeout");
  c.body_timeout = r.duration("body_timeout");
  c.idle_timeout = r.duration("idle_timeout");
  c.write_timeout = r.duration("write_timeout");
  c.shutdown_grace = r.duration("shutdown_grace");
  return c;
}

}  // namespace leadrelay::http
