#pragma once
// The editor schema: a JSON Schema (draft-04) of the whole configuration, generated from the declared key tables,
// so editors (yaml-language-server) check a file while it is typed, with the same keys the daemon accepts.
#include <string>

namespace leadrelay::config {

std::string config_json_schema();

}  // namespace leadrelay::config
