#pragma once
// The `validation:` section: lists, DNS and lead-quality rules. Declared beside the code that uses it.
#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::validate {

struct DnsConfig {
  bool enabled = true;
  std::vector<std::string> servers;  // "127.0.0.1:53", "[::1]:5353"; empty: the system's (/etc/resolv.conf)
  std::chrono::milliseconds timeout{2000};
  int max_concurrent = 64;
  std::size_t cache_entries = 100000;
  std::chrono::milliseconds negative_ttl{300000};
  std::chrono::milliseconds max_ttl{3600000};
  bool operator==(const DnsConfig&) const = default;
};

struct QualityConfig {
  std::vector<std::string> low_when;
  std::vector<std::string> placeholder_names;
};

struct ValidationConfig {
  std::filesystem::path disposable_list;  // empty: the list built into this version
  std::filesystem::path free_mail_list;
  std::filesystem::path role_list;
  std::vector<std::filesystem::path> spam_lists;
  std::vector<std::string> spam_domains;
  std::vector<std::string> allow_domains;
  DnsConfig dns;
  QualityConfig quality;
};

std::span<const config::KeySpec> validation_keys();
std::span<const config::KeySpec> dns_keys();
std::span<const config::KeySpec> quality_keys();

// The quality reason codes `low_when` accepts.
std::vector<std::string_view> quality_reason_names();

ValidationConfig parse_validation_config(config::MapReader& r, const std::filesystem::path& base_dir);
// The defaults, as when the config has no `validation:` section.
ValidationConfig default_validation_config();

}  // namespace leadrelay::validate
