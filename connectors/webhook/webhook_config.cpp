#include "connectors/webhook/webhook_config.hpp"

#include "connectors/sinks/sink_config.hpp"

namespace leadrelay::connectors::webhook {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kWebhookKeys[] = {
    {"url", KeyType::String, "", "where to POST each lead (https://... ; http:// only on a trusted network)", true},
    {"secret_file", KeyType::String, "",
     "file with the signing secret (whsec_<base64> or raw); several lines while rotating: each signs every request"},
    {"secret_env", KeyType::String, "", "environment variable with the signing secret(s), comma-separated"},
    {"ca_file", KeyType::String, "", "PEM file of CA certificates to trust besides the system's"},
    {"tls_verify", KeyType::Boolean, "true", "verify the server's certificate and name (turn off only for tests)"},
    {"connect_timeout", KeyType::Duration, "5s", "deadline to connect (and finish the TLS handshake)", false, 100, 600000},
    {"request_timeout", KeyType::Duration, "10s", "deadline for one request and its answer", false, 100, 600000},
};
}  // namespace

std::span<const KeySpec> webhook_keys() { return kWebhookKeys; }

std::shared_ptr<const void> parse_webhook(config::MapReader& r, const std::filesystem::path& base_dir) {
  auto o = std::make_shared<WebhookOptions>();
  o->url = r.string("url");
  if (r.has("url") && o->url.rfind("https://", 0) != 0 && o->url.rfind("http://", 0) != 0) {
    r.error("url", "expected an http:// or https:// URL");
  }
  const auto file = r.string("secret_file");
  const auto env = r.string("secret_env");
  if (file.empty() == env.empty()) {
    r.error(file.empty() ? "type" : "secret_env",
            "give exactly one of secret_file or secret_env: receivers check the signature");
  } else {
    std::string error;
    if (!read_secrets(file, env, base_dir, o->secrets, error)) r.error(file.empty() ? "secret_env" : "secret_file", error);
  }
  const auto ca = r.string("ca_file");
  if (!ca.empty()) {
    o->ca_file = std::filesystem::path(ca).is_relative() ? base_dir / ca : std::filesystem::path(ca);
    if (!std::filesystem::exists(o->ca_file)) r.error("ca_file", "no such file: " + o->ca_file.string());
  }
  o->tls_verify = r.boolean("tls_verify");
  o->connect_timeout = r.duration("connect_timeout");
  o->request_timeout = r.duration("request_timeout");
  return o;
}

}  // namespace leadrelay::connectors::webhook
