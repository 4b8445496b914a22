// Fuzz target: the ms-marketplace mapping over any JSON the body parser accepts, then lead.v1 serialisation
// and its read-back.
#include <cstdint>
#include <string>

#include "connectors/source_formats.hpp"
#include "daemon/intake/json_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leadrelay;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  rapidjson::Document doc;
  intake::Rejection error;
  if (!intake::parse_json_object(body, doc, error)) return 0;
  model::Lead lead;
  if (!connectors::find_format("ms-marketplace")->map(doc, lead, error)) return 0;
  const auto json = model::to_json(lead);
  model::Lead back;
  std::string problem;
  if (!model::from_json(json, back, problem)) __builtin_trap();  // what we write we must read
  return 0;
}
