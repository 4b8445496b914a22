#include "connectors/file/file_config.hpp"

namespace leadrelay::connectors::file {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kFileKeys[] = {
    {"path", KeyType::String, "", "the JSON-lines file leads are appended to (relative to the config file)", true},
    {"max_bytes", KeyType::Size, "100MiB", "rotate when the file would grow past this", false, 1024,
     std::numeric_limits<std::int64_t>::max()},
    {"keep", KeyType::Integer, "5", "rotated files kept (path.1 is the newest)", false, 0, 1000},
    {"fsync", KeyType::Boolean, "true", "fsync each lead before it counts as delivered (off: faster, may lose the "
                                        "last leads on power loss)"},
};
}  // namespace

std::span<const KeySpec> file_keys() { return kFileKeys; }

std::shared_ptr<const void> parse_file(config::MapReader& r, const std::filesystem::path& base_dir) {
  auto o = std::make_shared<FileOptions>();
  const auto path = r.string("path");
  o->path = std::filesystem::path(path).is_relative() ? base_dir / path : std::filesystem::path(path);
  o->max_bytes = r.size("max_bytes");
  o->keep = static_cast<int>(r.integer("keep"));
  o->fsync = r.boolean("fsync");
  return o;
}

}  // namespace leadrelay::connectors::file
