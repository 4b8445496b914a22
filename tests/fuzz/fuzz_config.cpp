// Fuzz target: loading a configuration file (YAML, every section's keys, routes, sinks, validation). Bad input
// must give diagnostics, never a crash.
#include <cstdint>
#include <string>

#include "daemon/app/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto result = leadrelay::app::load_config_text(text, "fuzz.yaml", "/nonexistent-fuzz-dir");
  for (const auto& e : result.errors) (void)e.to_string();
  return 0;
}
