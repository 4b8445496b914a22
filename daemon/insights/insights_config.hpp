#pragma once
// The insights section of the config: usd_rates, the USD value of one unit of each other currency that deal
// values are given in (EUR: 1.08). A value in a currency without a rate is shown apart, never added unconverted.
#include <span>

#include "daemon/config/yaml_reader.hpp"
#include "daemon/insights/widgets.hpp"

namespace leadrelay::insights {

struct InsightsConfig {
  UsdRates usd_rates;
};

std::span<const config::KeySpec> insights_keys();
InsightsConfig parse_insights_config(config::MapReader& r);

}  // namespace leadrelay::insights
