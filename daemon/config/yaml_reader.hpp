#pragma once
// Reading YAML against declared keys. Each component declares its keys once, in a KeySpec table beside its
// code (type, default, range, one line of description); MapReader checks a YAML map against such a table
// (unknown keys with a did-you-mean, duplicates, required keys, types, ranges) and collects every problem
// as a Diagnostic carrying file, line, column and the key's path, instead of stopping at the first one.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace leadrelay::config {

enum class KeyType { String, Integer, Boolean, Size, Duration, StringList, Enum, Section, SectionList };
std::string_view key_type_name(KeyType type);

struct KeySpec {
  std::string_view name;
  KeyType type;
  std::string_view default_value;  // as it would be written in YAML; empty: no default
  std::string_view description;
  bool required = false;
  std::int64_t min = 0;  // Integer: value; Size: bytes; Duration: milliseconds
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  std::string_view choices = {};  // Enum: words separated by '|'
};

// A named table of keys, for documentation and the editor schema.
struct KeyTable {
  std::string_view path;  // "server", "sources[]", "sources[].auth"
  std::span<const KeySpec> keys;
  std::string_view variant = {};  // "type: webhook": keys that apply only to such items
};

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string path;
  std::string message;
  std::string to_string() const;  // "file:line:col: path: message"
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void add(const YAML::Mark& mark, std::string path, std::string message);
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic> items_;
};

// Parsers shared by MapReader and by code that validates list items; each returns false and sets `error`.
bool parse_size(std::string_view text, std::uint64_t& bytes, std::string& error);
bool parse_duration(std::string_view text, std::chrono::milliseconds& out, std::string& error);

class MapReader {
 public:
  // A null node (a key with nothing after the colon) reads as an empty map: every key takes its default.
  MapReader(Diagnostics& diagnostics, const YAML::Node& node, std::string path, std::span<const KeySpec> keys);

  std::string string(std::string_view key);
  std::int64_t integer(std::string_view key);
  bool boolean(std::string_view key);
  std::uint64_t size(std::string_view key);
  std::chrono::milliseconds duration(std::string_view key);
  std::string enumeration(std::string_view key);
  // A sequence of strings; a single string is read as a list of one.
  std::vector<std::string> string_list(std::string_view key);

  bool has(std::string_view key) const;
  YAML::Node child(std::string_view key) const;
  const YAML::Node& node() const { return node_; }
  std::string path_of(std::string_view key) const;
  // Where the key's value stands, or the map itself when the key is absent.
  YAML::Mark mark_of(std::string_view key) const;
  const YAML::Mark& mark() const { return mark_; }
  const std::string& path() const { return path_; }
  Diagnostics& diagnostics() { return diagnostics_; }
  void error(std::string_view key, std::string message);

 private:
  const KeySpec& spec(std::string_view key) const;
  // The scalar text of the key, or its declared default; false (with a diagnostic) for a non-scalar.
  bool scalar(std::string_view key, std::string& text, bool& from_default);

  Diagnostics& diagnostics_;
  YAML::Node node_;
  std::string path_;
  std::span<const KeySpec> keys_;
  YAML::Mark mark_;
  bool is_map_ = false;
};

// Joins a parent path and a key: ("server", "listen") -> "server.listen"; ("", "sources") -> "sources".
std::string join_path(std::string_view parent, std::string_view key);

}  // namespace leadrelay::config
