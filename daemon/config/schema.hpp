#pragma once
// The editor schema: a JSON Schema (draft-04) of the whole configuration, generated from the declared key tables,
// so editors (yaml-language-server) check a file while it is typed, with the same keys the daemon accepts.
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::config {

// The schema of a file made of `tables` (each at its path: "", "server", "sources[]", "sinks[]" variants, ...).
// Two free-form parts are known by path: kafka.properties (librdkafka's, scalars) and routes[].when, a condition
// over `condition_fields` with all / any / not.
std::string json_schema(const std::vector<KeyTable>& tables, const std::vector<std::string_view>& condition_fields);

}  // namespace leadrelay::config
