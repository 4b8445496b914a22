#include "daemon/config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "daemon/util/strings.hpp"

namespace leadrelay::config {

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::String: return "string";
    case KeyType::Integer: return "integer";
    case KeyType::Boolean: return "boolean";
    case KeyType::Size: return "size";
    case KeyType::Duration: return "duration";
    case KeyType::StringList: return "list of strings";
    case KeyType::Enum: return "enum";
    case KeyType::Section: return "map";
    case KeyType::SectionList: return "list of maps";
  }
  return "value";
}

std::string Diagnostic::to_string() const {
  std::string out = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

void Diagnostics::add(const YAML::Mark& mark, std::string path, std::string message) {
  Diagnostic d;
  d.file = file_;
  d.line = mark.line >= 0 ? mark.line + 1 : 1;
  d.column = mark.column >= 0 ? mark.column + 1 : 1;
  d.path = std::move(path);
  d.message = std::move(message);
  items_.push_back(std::move(d));
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

namespace {

std::string_view node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Null: return "nothing";
    default: return "a scalar";
  }
}

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Splits "64KiB" into 64 and "KiB"; false when there is no leading number.
bool split_number(std::string_view text, std::uint64_t& number, std::string_view& suffix) {
  text = util::trim(text);
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc{}) return false;
  suffix = util::trim(text.substr(i));
  return true;
}

}  // namespace

bool parse_size(std::string_view text, std::uint64_t& bytes, std::string& error) {
  static constexpr Unit kUnits[] = {{"", 1},          {"B", 1},           {"KB", 1000},       {"MB", 1000000},
                                    {"GB", 1000000000}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}};
  std::uint64_t number = 0;
  std::string_view suffix;
  if (split_number(text, number, suffix)) {
    for (const auto& unit : kUnits) {
      if (suffix == unit.suffix) {
        if (number > std::numeric_limits<std::uint64_t>::max() / unit.factor) break;
        bytes = number * unit.factor;
        return true;
      }
    }
  }
  error = "expected a size such as 65536, 64KiB or 1MiB, got '" + std::string(text) + "'";
  return false;
}

bool parse_duration(std::string_view text, std::chrono::milliseconds& out, std::string& error) {
  static constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  std::uint64_t number = 0;
  std::string_view suffix;
  if (split_number(text, number, suffix)) {
    for (const auto& unit : kUnits) {
      if (suffix == unit.suffix && number <= 100ULL * 365 * 86400000 / unit.factor) {
        out = std::chrono::milliseconds(static_cast<std::int64_t>(number * unit.factor));
        return true;
      }
    }
    if (suffix.empty()) {
      error = "duration '" + std::string(text) + "' needs a unit: write " + std::string(util::trim(text)) +
              "s, or use ms, m, h or d";
      return false;
    }
  }
  error = "expected a duration such as 500ms, 10s, 5m or 24h, got '" + std::string(text) + "'";
  return false;
}

MapReader::MapReader(Diagnostics& diagnostics, const YAML::Node& node, std::string path,
                     std::span<const KeySpec> keys)
    : diagnostics_(diagnostics), node_(node), path_(std::move(path)), keys_(keys), mark_(node.Mark()) {
  if (node.IsNull() || !node.IsDefined()) {
    node_ = YAML::Node(YAML::NodeType::Map);
    is_map_ = true;
    return;
  }
  if (!node.IsMap()) {
    diagnostics_.add(mark_, path_, "expected a map, got " + std::string(node_kind(node)));
    return;
  }
  is_map_ = true;
  // yaml-cpp gives a block map that is a value no position of its own: point at its first key instead.
  if (node.begin() != node.end()) mark_ = node.begin()->first.Mark();

  std::vector<std::string_view> names;
  names.reserve(keys_.size());
  for (const auto& k : keys_) names.push_back(k.name);

  std::vector<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;  // a copy: it-> yields a temporary proxy
    const std::string key = key_node.IsScalar() ? key_node.Scalar() : std::string("<non-scalar key>");
    const auto key_path = join_path(path_, key);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      diagnostics_.add(key_node.Mark(), key_path, "duplicate key '" + key + "': remove one of them");
      continue;
    }
    seen.push_back(key);
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      std::string message = "unknown key '" + key + "'";
      const auto suggestion = util::closest_match(key, names);
      if (!suggestion.empty()) {
        message += "; did you mean '" + std::string(suggestion) + "'?";
      } else {
        message += "; valid keys here: " + util::join_choices(names);
      }
      diagnostics_.add(key_node.Mark(), key_path, std::move(message));
    }
  }
  for (const auto& k : keys_) {
    if (k.required && !has(k.name)) {
      diagnostics_.add(mark_, path_,
                       "missing required key '" + std::string(k.name) + "' (" + std::string(k.description) + ")");
    }
  }
}

const KeySpec& MapReader::spec(std::string_view key) const {
  for (const auto& k : keys_) {
    if (k.name == key) return k;
  }
  // Reading a key that the table does not declare is a programming error, caught by the config tests.
  throw std::logic_error("config key '" + join_path(path_, key) + "' is read but not declared");
}

bool MapReader::has(std::string_view key) const {
  if (!is_map_) return false;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return !it->second.IsNull();
  }
  return false;
}

YAML::Node MapReader::child(std::string_view key) const {
  if (!is_map_) return YAML::Node();
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return YAML::Node();
}

std::string MapReader::path_of(std::string_view key) const { return join_path(path_, key); }

YAML::Mark MapReader::mark_of(std::string_view key) const {
  if (is_map_) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second.IsNull() ? it->first.Mark() : it->second.Mark();
    }
  }
  return mark_;
}

void MapReader::error(std::string_view key, std::string message) {
  diagnostics_.add(mark_of(key), path_of(key), std::move(message));
}

bool MapReader::scalar(std::string_view key, std::string& text, bool& from_default) {
  const auto& s = spec(key);
  from_default = !has(key);
  if (from_default) {
    text = std::string(s.default_value);
    return true;
  }
  const auto c = child(key);
  if (!c.IsScalar()) {
    error(key, "expected " + std::string(key_type_name(s.type)) + ", got " + std::string(node_kind(c)));
    text = std::string(s.default_value);
    return false;
  }
  text = c.Scalar();
  return true;
}

std::string MapReader::string(std::string_view key) {
  std::string text;
  bool from_default = false;
  scalar(key, text, from_default);
  return text;
}

std::string MapReader::enumeration(std::string_view key) {
  const auto& s = spec(key);
  std::string text;
  bool from_default = false;
  if (!scalar(key, text, from_default) || from_default) return text;
  std::vector<std::string_view> choices;
  for (std::string_view rest = s.choices; !rest.empty();) {
    const auto bar = rest.find('|');
    choices.push_back(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
  }
  if (std::find(choices.begin(), choices.end(), text) != choices.end()) return text;
  std::string message = "unknown value '" + text + "'";
  const auto suggestion = util::closest_match(text, choices);
  message += suggestion.empty() ? "; expected " + util::join_choices(choices)
                                : "; did you mean '" + std::string(suggestion) + "'?";
  error(key, std::move(message));
  return std::string(s.default_value);
}

std::int64_t MapReader::integer(std::string_view key) {
  const auto& s = spec(key);
  std::string text;
  bool from_default = false;
  scalar(key, text, from_default);
  std::int64_t value = 0;
  const auto t = util::trim(text);
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc{} || ptr != t.data() + t.size()) {
    if (!from_default) error(key, "expected an integer, got '" + text + "'");
    return 0;
  }
  if (value < s.min || value > s.max) {
    error(key, "must be between " + std::to_string(s.min) + " and " + std::to_string(s.max) + ", got " + text);
  }
  return std::clamp(value, s.min, s.max);
}

bool MapReader::boolean(std::string_view key) {
  std::string text;
  bool from_default = false;
  scalar(key, text, from_default);
  if (text == "true") return true;
  if (text == "false") return false;
  if (!from_default) error(key, "expected true or false, got '" + text + "'");
  return false;
}

std::uint64_t MapReader::size(std::string_view key) {
  const auto& s = spec(key);
  std::string text;
  bool from_default = false;
  scalar(key, text, from_default);
  std::uint64_t bytes = 0;
  std::string problem;
  if (!parse_size(text, bytes, problem)) {
    if (!from_default) error(key, problem);
    return 0;
  }
  if (bytes < static_cast<std::uint64_t>(s.min) || bytes > static_cast<std::uint64_t>(s.max)) {
    error(key, "must be between " + std::to_string(s.min) + " and " + std::to_string(s.max) + " bytes, got " + text);
  }
  return bytes;
}

std::chrono::milliseconds MapReader::duration(std::string_view key) {
  const auto& s = spec(key);
  std::string text;
  bool from_default = false;
  scalar(key, text, from_default);
  std::chrono::milliseconds value{0};
  std::string problem;
  if (!parse_duration(text, value, problem)) {
    if (!from_default) error(key, problem);
    return value;
  }
  if (value.count() < s.min || value.count() > s.max) {
    error(key, "must be between " + std::to_string(s.min) + "ms and " + std::to_string(s.max) + "ms, got " + text);
  }
  return value;
}

std::vector<std::string> MapReader::string_list(std::string_view key) {
  const auto& s = spec(key);
  std::vector<std::string> out;
  if (!has(key)) {
    // A list default is written "a, b, c".
    for (std::string_view rest = s.default_value; !rest.empty();) {
      const auto comma = rest.find(", ");
      out.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
    }
    return out;
  }
  const auto c = child(key);
  if (c.IsScalar()) {
    out.push_back(c.Scalar());
    return out;
  }
  if (!c.IsSequence()) {
    error(key, "expected a list of strings, got " + std::string(node_kind(c)));
    return out;
  }
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!c[i].IsScalar()) {
      diagnostics_.add(c[i].Mark(), path_of(key) + "[" + std::to_string(i) + "]",
                       "expected a string, got " + std::string(node_kind(c[i])));
      continue;
    }
    out.push_back(c[i].Scalar());
  }
  return out;
}

}  // namespace leadrelay::config
