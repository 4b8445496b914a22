#pragma once
// The signed-webhook sink's settings (type: webhook).
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors::webhook {

struct WebhookOptions {
  std::string url;                   // http:// or https://
  std::vector<std::string> secrets;  // signing secrets; several while rotating (each signs every request)
  std::filesystem::path ca_file;     // extra trust anchors for https (default: the system's)
  bool tls_verify = true;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
};

std::span<const config::KeySpec> webhook_keys();
std::shared_ptr<const void> parse_webhook(config::MapReader& r, const std::filesystem::path& base_dir);

}  // namespace leadrelay::connectors::webhook
