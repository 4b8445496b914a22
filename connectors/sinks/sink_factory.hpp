#pragma once
// Builds the sink a config entry names (the registry's other half: parsing is in sink_config.cpp).
#include <memory>

#include "connectors/sinks/sink.hpp"
#include "connectors/sinks/sink_config.hpp"

namespace leadrelay::connectors {

std::unique_ptr<Sink> create_sink(const SinkConfig& config);

}  // namespace leadrelay::connectors
