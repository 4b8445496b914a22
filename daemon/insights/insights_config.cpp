#include "daemon/insights/insights_config.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>

namespace leadrelay::insights {
namespace {
constexpr config::KeySpec kKeys[] = {
    {"usd_rates", config::KeyType::Section, "",
     "what one unit of a currency is worth in USD, by ISO 4217 code (EUR: 1.08); deal values in a currency "
     "without a rate are shown apart in the insights, never added"},
};

bool currency_code(const std::string& code) {
  return code.size() == 3 && std::all_of(code.begin(), code.end(), [](unsigned char c) { return std::isupper(c); });
}
}  // namespace

std::span<const config::KeySpec> insights_keys() { return kKeys; }

InsightsConfig parse_insights_config(config::MapReader& r) {
  InsightsConfig c;
  const auto rates = r.child("usd_rates");
  if (!rates || rates.IsNull()) return c;
  if (!rates.IsMap()) {
    r.error("usd_rates", "expected a map of currency codes to rates, such as EUR: 1.08");
    return c;
  }
  const auto path = config::join_path(r.path(), "usd_rates");
  for (const auto& entry : rates) {
    const auto code = entry.first.as<std::string>("");
    const auto where = config::join_path(path, code);
    if (!currency_code(code)) {
      r.diagnostics().add(entry.first.Mark(), where,
                          "'" + code + "' is not an ISO 4217 code; hint: write three capitals, such as EUR");
      continue;
    }
    double rate = 0;
    bool ok = entry.second.IsScalar();
    if (ok) {
      try {
        rate = entry.second.as<double>();
      } catch (const YAML::Exception&) {
        ok = false;
      }
    }
    if (!ok || !(rate > 0) || rate > 1e9) {
      r.diagnostics().add(entry.second.Mark(), where,
                          "expected a positive number, the USD value of one " + code + "; hint: EUR: 1.08");
      continue;
    }
    if (code != "USD") c.usd_rates[code] = rate;
  }
  return c;
}

}  // namespace leadrelay::insights
