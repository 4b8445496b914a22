#pragma once
// The whole configuration, parsed and checked once into an immutable value. Components read their own
// sections (declared beside their code, with daemon/config's generic reader); this file, above them all,
// composes them and owns the top-level keys.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_config.hpp"
#include "connectors/pc_referral/pc_config.hpp"
#include "connectors/sinks/sink_config.hpp"
#include "daemon/config/yaml_reader.hpp"
#include "daemon/http/server_config.hpp"
#include "daemon/insights/insights_config.hpp"
#include "daemon/intake/source_config.hpp"
#include "daemon/leads/retention.hpp"
#include "daemon/lifecycle/lifecycle_config.hpp"
#include "daemon/notify/notify_config.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/log/log.hpp"
#include "daemon/outbox/outbox_config.hpp"
#include "daemon/routing/router.hpp"
#include "daemon/validate/validator.hpp"

namespace leadrelay::app {
using config::Diagnostic;
using config::KeyTable;


struct LoggingConfig {
  log::Level level = log::Level::Info;
};

struct Config {
  std::filesystem::path file;
  std::filesystem::path state_dir;  // absolute
  http::ServerConfig server;
  http::AdminConfig admin;
  store::JournalConfig journal;
  LoggingConfig logging;
  std::vector<intake::SourceConfig> sources;
  connectors::kafka::KafkaConfig kafka;
  std::vector<connectors::SinkConfig> sinks;
  outbox::OutboxConfig outbox;
  outbox::DedupConfig dedup;
  lifecycle::LifecycleConfig lifecycle;
  connectors::pc_referral::PartnerCenterConfig partner_center;
  leads::RetentionConfig retention;
  std::string console_base_url;  // console.base_url
  insights::InsightsConfig insights;
  notify::NotifyConfig notifications;
  std::shared_ptr<const routing::RouteTable> routes;  // shared: a reload swaps the whole table
  validate::ValidationConfig validation;
  std::shared_ptr<const validate::Validator> validator;  // lists loaded; swapped whole on reload
};

struct LoadResult {
  std::optional<Config> config;     // set when there are no diagnostics
  std::vector<Diagnostic> errors;   // every problem found, in file order
};

LoadResult load_config_file(const std::filesystem::path& file);
// `file` names the text in messages; relative paths in it resolve against `base_dir`.
LoadResult load_config_text(const std::string& text, const std::string& file, const std::filesystem::path& base_dir);

// Every declared key table, for documentation and the editor schema.
std::vector<KeyTable> key_tables();
// The editor schema of the whole file (config::json_schema over key_tables()).
std::string config_json_schema();

}  // namespace leadrelay::app
