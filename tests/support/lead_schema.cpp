#include "tests/support/lead_schema.hpp"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace leadrelay::testing {
namespace {
rapidjson::Document load_schema_json() {
  std::ifstream in(std::string(LEADRELAY_SOURCE_DIR) + "/schemas/lead.v1.json");
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document d;
  d.Parse(text.str().c_str());
  if (d.HasParseError()) throw std::runtime_error("schemas/lead.v1.json is not valid JSON");
  return d;
}

const rapidjson::SchemaDocument& schema() {
  static const rapidjson::Document json = load_schema_json();
  static const rapidjson::SchemaDocument doc(json);
  return doc;
}
}  // namespace

std::string lead_schema_errors(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (d.HasParseError()) return "not JSON";
  rapidjson::SchemaValidator validator(schema());
  if (d.Accept(validator)) return {};
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
  rapidjson::StringBuffer rule;
  validator.GetInvalidSchemaPointer().StringifyUriFragment(rule);
  return std::string("at ") + where.GetString() + ": violates " + rule.GetString() + " (" +
         validator.GetInvalidSchemaKeyword() + ")";
}

}  // namespace leadrelay::testing
