#pragma once
// The file sink's settings (type: file): JSON lines, one lead per line.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors::file {

struct FileOptions {
  std::filesystem::path path;        // the current file; rotated ones get .1, .2, ... (1 the newest)
  std::uint64_t max_bytes = 100ULL << 20;
  int keep = 5;                      // rotated files kept
  bool fsync = true;                 // fsync after each lead before it counts as delivered
};

std::span<const config::KeySpec> file_keys();
std::shared_ptr<const void> parse_file(config::MapReader& r, const std::filesystem::path& base_dir);

}  // namespace leadrelay::connectors::file
