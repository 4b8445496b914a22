#pragma once
// The console's files, built into the binary (daemon/console/embed.py writes the table at build time).
#include <string_view>
#include <vector>

namespace leadrelay::console {

struct Asset {
  std::string_view key;           // "/console/assets/<name>.<hash>.<ext>", or "page:<name>" for a page
  std::string_view content_type;
  bool immutable;                 // named by its content's hash: cached for a year
  std::string_view body;
  std::string_view gzipped;
};

const std::vector<Asset>& assets();

}  // namespace leadrelay::console
