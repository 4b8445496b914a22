// The editor schema: the committed file is what the daemon generates, and it accepts the example config.
#include "daemon/config/schema.hpp"

#include "daemon/app/config.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace leadrelay::config {
namespace {

std::string read(const std::string& relative) {
  std::ifstream in(std::string(LEADRELAY_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// YAML to JSON the way an editor's YAML mode types scalars: true/false, integers, else strings.
rapidjson::Value to_json(const YAML::Node& n, rapidjson::Document::AllocatorType& a) {
  if (n.IsMap()) {
    rapidjson::Value o(rapidjson::kObjectType);
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node key = it->first;
      o.AddMember(rapidjson::Value(key.Scalar().c_str(), a), to_json(it->second, a), a);
    }
    return o;
  }
  if (n.IsSequence()) {
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto& item : n) arr.PushBack(to_json(item, a), a);
    return arr;
  }
  if (n.IsNull()) return rapidjson::Value(rapidjson::kNullType);
  const auto& s = n.Scalar();
  if (s == "true" || s == "false") return rapidjson::Value(s == "true");
  std::int64_t i = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc{} && ptr == s.data() + s.size() && n.Tag() != "!") return rapidjson::Value(i);
  return rapidjson::Value(s.c_str(), a);
}

std::string validate(const std::string& yaml) {
  rapidjson::Document schema_json;
  schema_json.Parse(read("schemas/config.schema.json").c_str());
  rapidjson::SchemaDocument schema(schema_json);
  rapidjson::Document config;
  config.CopyFrom(to_json(YAML::Load(yaml), config.GetAllocator()), config.GetAllocator());
  rapidjson::SchemaValidator validator(schema);
  if (config.Accept(validator)) return {};
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
  return std::string(where.GetString()) + " (" + validator.GetInvalidSchemaKeyword() + ")";
}

TEST(ConfigSchema, CommittedFileMatchesTheDeclaredKeys) {
  EXPECT_EQ(read("schemas/config.schema.json"), app::config_json_schema())
      << "schemas/config.schema.json is stale: run 'leadrelay config-schema > schemas/config.schema.json'";
}

TEST(ConfigSchema, AcceptsTheExampleConfig) { EXPECT_EQ(validate(read("config.example.yaml")), ""); }

TEST(ConfigSchema, RefusesWhatTheDaemonRefuses) {
  const std::string base = "state_dir: s\nsources:\n  - {name: a, path: /a, format: ms-marketplace, auth: {secret_file: f}}\n";
  EXPECT_EQ(validate(base), "");
  EXPECT_NE(validate(base + "server: {lisen: x}\n"), "");                  // unknown key
  EXPECT_NE(validate(base + "server: {io_threads: 0}\n"), "");             // out of range
  EXPECT_NE(validate(base + "server: {header_timeout: 10}\n"), "");        // a duration needs a unit
  EXPECT_NE(validate(base + "logging: {level: verbose}\n"), "");           // not one of the values
  EXPECT_NE(validate("sources: []\n"), "");                                // state_dir is required
  EXPECT_NE(validate(base + "routes:\n  - {name: r, when: {call_to_acton: ContactMe}, to: [{kafka: t}]}\n"), "");
  EXPECT_EQ(validate(base + "routes:\n  - {name: r, when: {call_to_action: ContactMe}, to: [{kafka: t}]}\n"), "");
}

}  // namespace
}  // namespace leadrelay::config
