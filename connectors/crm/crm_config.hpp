#pragma once
// The CRM sinks' settings: type dynamics (Dataverse Web API), salesforce (REST API) and hubspot (CRM v3 API).
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "connectors/crm/field_map.hpp"
#include "daemon/config/yaml_reader.hpp"

namespace leadrelay::connectors::crm {

enum class CrmKind { Dynamics, Salesforce, HubSpot };

// Per lifecycle status, the CRM fields (and their values, as written in YAML) a status update sets.
using StatusMap = std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>;

struct CrmOptions {
  CrmKind kind = CrmKind::Dynamics;
  std::string url;        // dynamics: the org (https://contoso.crm.dynamics.com); salesforce: the login host; hubspot: the API
  std::string token_url;  // OAuth2 client-credentials token endpoint (dynamics, salesforce)
  std::string client_id;
  std::string client_secret;
  std::string scope;      // dynamics: <url>/.default
  std::string token;      // hubspot: the private app's token
  std::string key_field;  // the upsert key: Dataverse alternate key, Salesforce external-ID field, HubSpot idProperty
  std::string entity;     // dynamics: the entity set (leads)
  std::string api_version;
  double slow_down_at = 0.9;
  std::size_t batch_size = 1;  // salesforce: records per sObject-collections request (up to 200)  // salesforce: pause between requests past this share of the daily API allowance
  std::vector<FieldMapping> fields;
  StatusMap statuses;
  std::filesystem::path ca_file;
  bool tls_verify = true;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{20000};
};

std::span<const config::KeySpec> dynamics_keys();
std::span<const config::KeySpec> salesforce_keys();
std::span<const config::KeySpec> hubspot_keys();
std::shared_ptr<const void> parse_dynamics(config::MapReader& r, const std::filesystem::path& base_dir);
std::shared_ptr<const void> parse_salesforce(config::MapReader& r, const std::filesystem::path& base_dir);
std::shared_ptr<const void> parse_hubspot(config::MapReader& r, const std::filesystem::path& base_dir);

// The default field mappings (lead.v1 → CRM), for documentation and tests.
const std::vector<FieldMapping>& dynamics_default_fields();
const std::vector<FieldMapping>& salesforce_default_fields();
const std::vector<FieldMapping>& hubspot_default_fields();
const StatusMap& dynamics_default_statuses();
const StatusMap& salesforce_default_statuses();
const StatusMap& hubspot_default_statuses();

}  // namespace leadrelay::connectors::crm
