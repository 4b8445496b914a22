#include "connectors/sinks/sink_factory.hpp"

#include "connectors/crm/crm_sink.hpp"
#include "connectors/file/file_sink.hpp"
#include "connectors/webhook/webhook_sink.hpp"

namespace leadrelay::connectors {

std::unique_ptr<Sink> create_sink(const SinkConfig& config) {
  if (config.type == "webhook") return std::make_unique<webhook::WebhookSink>(config.get<webhook::WebhookOptions>());
  if (config.type == "dynamics" || config.type == "salesforce" || config.type == "hubspot") {
    return crm::make_crm_sink(config.get<crm::CrmOptions>());
  }
  if (config.type == "file") return std::make_unique<file::FileSink>(config.get<file::FileOptions>());
  return nullptr;  // parse_sinks admits registered types only
}

}  // namespace leadrelay::connectors
