#pragma once
// Field mapping from lead.v1 to a CRM record: each CRM field names where its value comes from, a dotted path into
// lead.v1 ("contact.last_name", "email_check.normalized", "phone_check.e164"), alternatives separated by '|'
// (the first that is present wins: "contact.last_name|contact.first_name|=Unknown"), or "=text" for a constant.
// Absent values are left out of the record, so an update never blanks what the CRM already holds.
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors::crm {

struct FieldMapping {
  std::string field;
  std::string source;
};

// The defaults with the YAML map `fields:` applied: a listed field replaces its default or is added; a field
// mapped to "" (or null) is removed.
std::vector<FieldMapping> merge_fields(const std::vector<FieldMapping>& defaults, config::MapReader& r,
                                       std::string_view key);

// The record as a JSON object text; false with a message when the lead is not JSON.
bool build_record(std::string_view lead_json, const std::vector<FieldMapping>& fields, std::string& record_json,
                  std::string& error);

// One value of the lead by dotted path (strings only), or empty.
std::string lead_value(std::string_view lead_json, std::string_view path);

}  // namespace leadrelay::connectors::crm
