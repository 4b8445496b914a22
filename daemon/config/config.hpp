#pragma once
// The whole configuration, parsed and checked once into an immutable value. Components read their own
// sections (declared beside their code); this file composes them and owns the top-level keys.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_config.hpp"
#include "connectors/sinks/sink_config.hpp"
#include "daemon/config/yaml_reader.hpp"
#include "daemon/http/server_config.hpp"
#include "daemon/intake/source_config.hpp"
#include "daemon/journal/journal.hpp"
#include "daemon/log/log.hpp"
#include "daemon/outbox/outbox_config.hpp"
#include "daemon/routing/router.hpp"
#include "daemon/validate/validator.hpp"

namespace leadrelay::config {

struct LoggingConfig {
  log::Level level = log::Level::Info;
};

struct Config {
  std::filesystem::path file;
  std::filesystem::path state_dir;  // absolute
  http::ServerConfig server;
  http::AdminConfig admin;
  journal::JournalConfig journal;
  LoggingConfig logging;
  std::vector<intake::SourceConfig> sources;
  connectors::kafka::KafkaConfig kafka;
  std::vector<connectors::SinkConfig> sinks;
  outbox::OutboxConfig outbox;
  outbox::DedupConfig dedup;
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

}  // namespace leadrelay::config
