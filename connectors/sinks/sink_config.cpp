#include "connectors/sinks/sink_config.hpp"

#include <algorithm>
#include <cstdlib>

#include "connectors/crm/crm_config.hpp"
#include "connectors/file/file_config.hpp"
#include "connectors/webhook/webhook_config.hpp"
#include "daemon/intake/source_config.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::connectors {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kCommonKeys[] = {
    {"name", KeyType::String, "", "the sink's name, for routes ({sink: <name>}), logs, metrics and `leadrelay dlq`",
     true},
    {"type", KeyType::String, "", "dynamics, salesforce, hubspot, webhook or file", true},
    {"initial_backoff", KeyType::Duration, "1s", "first pause after a failed delivery; doubles (with jitter) each time",
     false, 10, 3600000},
    {"max_backoff", KeyType::Duration, "5m", "longest pause between retries (a transient failure is retried until "
                                           "it succeeds)", false, 100, 86400000},
    {"breaker_failures", KeyType::Integer, "5", "consecutive failures that open the circuit breaker", false, 1, 1000},
    {"breaker_cooldown", KeyType::Duration, "30s", "how long an open circuit waits before one trial delivery", false,
     100, 3600000},
};

const SinkType kTypes[] = {
    {"dynamics", "upsert each lead into Dynamics 365 / Dataverse (PATCH by alternate key), OAuth2 client credentials",
     crm::dynamics_keys(), &crm::parse_dynamics, true},
    {"salesforce", "upsert each lead into Salesforce (PATCH by external ID), OAuth2 client credentials",
     crm::salesforce_keys(), &crm::parse_salesforce, true},
    {"hubspot", "upsert each lead as a HubSpot contact (batch upsert by idProperty), private app token",
     crm::hubspot_keys(), &crm::parse_hubspot, true},
    {"webhook", "POST each lead as JSON, signed (webhook-id, webhook-timestamp, webhook-signature)",
     webhook::webhook_keys(), &webhook::parse_webhook},
    {"file", "append each lead to a JSON-lines file, with size-based rotation", file::file_keys(), &file::parse_file},
};

std::string fingerprint(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

}  // namespace

std::span<const SinkType> sink_types() { return kTypes; }
std::span<const KeySpec> common_sink_keys() { return kCommonKeys; }
std::span<const KeySpec> retry_keys() { return std::span<const KeySpec>(kCommonKeys).subspan(2); }

RetryPolicy parse_retry(config::MapReader& r) {
  RetryPolicy p;
  p.initial_backoff = r.duration("initial_backoff");
  p.max_backoff = r.duration("max_backoff");
  p.breaker_failures = static_cast<int>(r.integer("breaker_failures"));
  p.breaker_cooldown = r.duration("breaker_cooldown");
  return p;
}

bool read_secrets(const std::string& file, const std::string& env, const std::filesystem::path& base_dir,
                  std::vector<std::string>& out, std::string& error) {
  if (!file.empty()) {
    const std::filesystem::path p = std::filesystem::path(file).is_relative() ? base_dir / file : std::filesystem::path(file);
    if (!intake::read_secret_file(p, out, error)) return false;
    if (out.empty()) error = "secret file '" + p.string() + "' holds no secret";
    return !out.empty();
  }
  const char* value = std::getenv(env.c_str());
  if (value == nullptr) {
    error = "environment variable " + env + " is not set; export it before starting leadrelay";
    return false;
  }
  for (auto& secret : intake::split_secret_list(value)) out.push_back(std::move(secret));
  if (out.empty()) error = "environment variable " + env + " holds no secret";
  return !out.empty();
}

std::vector<SinkConfig> parse_sinks(config::Diagnostics& diagnostics, const YAML::Node& node,
                                    const std::filesystem::path& base_dir) {
  std::vector<SinkConfig> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    diagnostics.add(node.Mark(), "sinks", "expected a list of sinks (each item starts with '- name:')");
    return out;
  }
  std::vector<std::string_view> type_names;
  for (const auto& t : kTypes) type_names.push_back(t.type);
  for (std::size_t i = 0; i < node.size(); ++i) {
    const auto item = node[i];
    const auto path = "sinks[" + std::to_string(i) + "]";
    // The type decides which keys are allowed: the shared ones plus its own.
    const SinkType* type = nullptr;
    std::string type_name;
    if (item.IsMap() && item["type"] && item["type"].IsScalar()) {
      type_name = item["type"].Scalar();
      for (const auto& t : kTypes) {
        if (t.type == type_name) type = &t;
      }
    }
    std::vector<KeySpec> keys(std::begin(kCommonKeys), std::end(kCommonKeys));
    if (type != nullptr) keys.insert(keys.end(), type->keys.begin(), type->keys.end());
    config::MapReader r(diagnostics, item, path, keys);
    SinkConfig s;
    s.name = r.string("name");
    s.type = type_name;
    s.line = r.mark().line + 1;
    s.fingerprint = fingerprint(item);
    if (type == nullptr) {
      if (r.has("type")) {
        const auto hint = util::closest_match(type_name, type_names);
        r.error("type", "unknown sink type '" + type_name + "'" +
                            (hint.empty() ? "; types are " + util::join_choices(type_names)
                                          : "; did you mean '" + std::string(hint) + "'?"));
      }
      continue;
    }
    s.retry = parse_retry(r);
    s.options = type->parse(r, base_dir);
    if (std::any_of(out.begin(), out.end(), [&](const SinkConfig& o) { return o.name == s.name; })) {
      r.error("name", "another sink is already named '" + s.name + "'");
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace leadrelay::connectors
