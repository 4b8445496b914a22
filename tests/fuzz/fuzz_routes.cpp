// Fuzz target: route conditions. The input is a `routes:` YAML list; once it parses cleanly, a few leads are
// routed through it.
#include <cstdint>
#include <string>

#include "daemon/routing/router.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadrelay;
  YAML::Node node;
  try {
    node = YAML::Load(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const YAML::Exception&) {
    return 0;
  }
  config::Diagnostics diagnostics("fuzz.yaml");
  routing::RouteContext context{{"marketplace", "proxy"}, {"crm"}, true};
  const auto table = routing::parse_routes(diagnostics, node, context);
  if (!diagnostics.empty()) return 0;
  model::Lead lead;
  lead.source_name = "marketplace";
  lead.contact.country = "DE";
  lead.action.code = "PLT";
  lead.offer.id = "contoso.analytics-pro";
  for (int i = 0; i < 3; ++i) {
    const auto decision = routing::route(table, lead);
    (void)decision;
    lead.test_lead = !lead.test_lead;
    lead.quality = i == 1 ? "Low" : "High";
  }
  return 0;
}
