#pragma once
// The `sources:` list: each source is one webhook endpoint (a path), the format its body is in, and how a
// sender proves it may post there.
#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "daemon/config/yaml_reader.hpp"
#include "daemon/intake/signing_certificates.hpp"

namespace leadrelay::intake {

enum class AuthType { QuerySecret, Bearer, Hmac, PartnerCenter, None };

struct AuthConfig {
  AuthType type = AuthType::QuerySecret;
  std::string param;                 // QuerySecret: the query parameter holding the secret
  std::vector<std::string> secrets;  // one or more (several during a rotation); never logged
  std::string secret_origin;         // "file /etc/leadrelay/x.secret" or "env NAME", for messages
  std::chrono::milliseconds tolerance{300000};  // Hmac: how far webhook-timestamp may be from now
  CertificateRules certificates;                // PartnerCenter: which signing certificates are trusted
};

struct SourceConfig {
  std::string name;
  std::string path;
  std::string format;
  AuthConfig auth;
  // Redelivery: the same delivery again within the window is answered 200 with the first lead's id.
  std::chrono::milliseconds replay_window{0};
  std::string idempotency_header;        // sameness from this header's value instead of the body
  std::string idempotency_json_pointer;  // ... or from this JSON Pointer (RFC 6901) into the body
  double rate_limit = 0;  // requests per second to this source at most on average; 0: no limit
  double rate_burst = 0;
};

std::span<const config::KeySpec> source_keys();
std::span<const config::KeySpec> auth_keys();

// Reads the `sources` list; relative secret_file paths are resolved against `base_dir` (the config's folder).
std::vector<SourceConfig> parse_sources(config::Diagnostics& diagnostics, const YAML::Node& node,
                                        const std::filesystem::path& base_dir);

// Reads secrets from a file: one per line, blank lines and lines starting with '#' ignored.
bool read_secret_file(const std::filesystem::path& file, std::vector<std::string>& secrets, std::string& error);
// Secrets from an environment variable's value: comma-separated, trimmed, empty items skipped.
std::vector<std::string> split_secret_list(std::string_view value);

inline constexpr std::size_t kMinSecretLength = 16;

}  // namespace leadrelay::intake
