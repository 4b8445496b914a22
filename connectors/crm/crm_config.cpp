#include "connectors/crm/crm_config.hpp"

#include "connectors/sinks/sink_config.hpp"

#include <algorithm>

namespace leadrelay::connectors::crm {
namespace {
using config::KeySpec;
using config::KeyType;

#define LEADRELAY_CRM_COMMON_KEYS                                                                                      \
  {"fields", KeyType::Section, "",                                                                                   \
   "CRM field: lead.v1 path (contact.email, phone_check.e164, ...; 'a|b' takes the first present, \"=text\" a "      \
   "constant; \"\" removes a default)"},                                                                             \
      {"ca_file", KeyType::String, "", "PEM file of CA certificates to trust besides the system's"},                 \
      {"tls_verify", KeyType::Boolean, "true", "verify the server's certificate and name (turn off only for tests)"}, \
      {"connect_timeout", KeyType::Duration, "5s", "deadline to connect (and finish the TLS handshake)", false, 100,  \
       600000},                                                                                                      \
      {"request_timeout", KeyType::Duration, "20s", "deadline for one request and its answer", false, 100, 600000}, \
      {"status_map", KeyType::Section, "",                                                                           \
       "lead status (Received, Accepted, Declined, Won, Lost, Expired): the CRM fields a lifecycle change sets on "  \
       "the record (replaces that status's default; {} sends nothing for it)"}

constexpr KeySpec kDynamicsKeys[] = {
    {"url", KeyType::String, "", "the Dataverse organisation, e.g. https://contoso.crm.dynamics.com", true},
    {"tenant", KeyType::String, "", "the Entra ID tenant (id or domain) of the application user"},
    {"token_url", KeyType::String, "",
     "OAuth2 token endpoint; default https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token"},
    {"client_id", KeyType::String, "", "the application (client) id", true},
    {"client_secret_file", KeyType::String, "", "file holding the client secret"},
    {"client_secret_env", KeyType::String, "", "environment variable holding the client secret"},
    {"scope", KeyType::String, "", "default <url>/.default"},
    {"alternate_key", KeyType::String, "leadrelay_leadid",
     "the lead table's alternate key column that holds leadrelay's lead id (PATCH by alternate key = upsert)"},
    {"entity_set", KeyType::String, "leads", "the entity set leads are written to"},
    LEADRELAY_CRM_COMMON_KEYS,
};

constexpr KeySpec kSalesforceKeys[] = {
    {"url", KeyType::String, "", "the org's My Domain login URL, e.g. https://contoso.my.salesforce.com", true},
    {"token_url", KeyType::String, "", "OAuth2 token endpoint; default <url>/services/oauth2/token"},
    {"client_id", KeyType::String, "", "the connected app's consumer key", true},
    {"client_secret_file", KeyType::String, "", "file holding the consumer secret"},
    {"client_secret_env", KeyType::String, "", "environment variable holding the consumer secret"},
    {"external_id_field", KeyType::String, "LeadRelay_Id__c",
     "the Lead's unique external-ID field that holds leadrelay's lead id (upsert key)"},
    {"api_version", KeyType::String, "v59.0", "REST API version"},
    {"batch_size", KeyType::Integer, "200",
     "leads per request (sObject collections upsert, one API call for up to 200); 1 sends each lead alone", false, 1,
     200},
    {"slow_down_at", KeyType::Integer, "90", "past this percentage of the daily API allowance (Sforce-Limit-Info), "
                                             "pause a second between requests", false, 1, 100},
    LEADRELAY_CRM_COMMON_KEYS,
};

constexpr KeySpec kHubSpotKeys[] = {
    {"url", KeyType::String, "https://api.hubapi.com", "the API's base URL"},
    {"token_file", KeyType::String, "", "file holding the private app's access token"},
    {"token_env", KeyType::String, "", "environment variable holding the private app's access token"},
    {"id_property", KeyType::String, "email", "the unique contact property upserts match on"},
    LEADRELAY_CRM_COMMON_KEYS,
};
#undef LEADRELAY_CRM_COMMON_KEYS

const std::vector<FieldMapping> kDynamicsFields = {
    {"firstname", "contact.first_name"},
    {"lastname", "contact.last_name"},
    {"emailaddress1", "email_check.normalized|contact.email"},
    {"telephone1", "phone_check.e164|contact.phone"},
    {"companyname", "contact.company"},
    {"jobtitle", "contact.title"},
    {"address1_country", "contact.country|contact.country_raw"},
    {"subject", "offer.title|offer.id"},
    {"description", "description"},
    {"leadsourcecode", "=8"},  // "Web"
};
const std::vector<FieldMapping> kSalesforceFields = {
    {"FirstName", "contact.first_name"},
    {"LastName", "contact.last_name|contact.email|=Unknown"},  // required by Salesforce
    {"Email", "email_check.normalized|contact.email"},
    {"Phone", "phone_check.e164|contact.phone"},
    {"Company", "contact.company|email_check.domain|=Unknown"},  // required by Salesforce
    {"Title", "contact.title"},
    {"Country", "contact.country|contact.country_raw"},
    {"LeadSource", "=Microsoft Marketplace"},
    {"Description", "description"},
};
const std::vector<FieldMapping> kHubSpotFields = {
    {"email", "email_check.normalized|contact.email"},
    {"firstname", "contact.first_name"},
    {"lastname", "contact.last_name"},
    {"phone", "phone_check.e164|contact.phone"},
    {"company", "contact.company"},
    {"jobtitle", "contact.title"},
    {"country", "contact.country|contact.country_raw"},
    {"hs_lead_status", "=NEW"},
    {"message", "description"},
};

// What each lifecycle status sets on the record the sink made (README, "CRM status updates").
const StatusMap kDynamicsStatuses = {
    {"Received", {{"statecode", "0"}, {"statuscode", "1"}}},   // Open / New
    {"Accepted", {{"statecode", "0"}, {"statuscode", "2"}}},   // Open / Contacted
    {"Won", {{"statecode", "1"}, {"statuscode", "3"}}},        // Qualified / Qualified
    {"Lost", {{"statecode", "2"}, {"statuscode", "4"}}},       // Disqualified / Lost
    {"Declined", {{"statecode", "2"}, {"statuscode", "6"}}},   // Disqualified / No Longer Interested
    {"Expired", {{"statecode", "2"}, {"statuscode", "5"}}},    // Disqualified / Cannot Contact
};
const StatusMap kSalesforceStatuses = {
    {"Received", {{"Status", "Open - Not Contacted"}}},
    {"Accepted", {{"Status", "Working - Contacted"}}},
    {"Won", {{"Status", "Closed - Converted"}}},
    {"Lost", {{"Status", "Closed - Not Converted"}}},
    {"Declined", {{"Status", "Closed - Not Converted"}}},
    {"Expired", {{"Status", "Closed - Not Converted"}}},
};
const StatusMap kHubSpotStatuses = {
    {"Received", {{"hs_lead_status", "NEW"}}},
    {"Accepted", {{"hs_lead_status", "IN_PROGRESS"}}},
    {"Won", {{"hs_lead_status", "OPEN_DEAL"}, {"lifecyclestage", "customer"}}},
    {"Lost", {{"hs_lead_status", "UNQUALIFIED"}}},
    {"Declined", {{"hs_lead_status", "UNQUALIFIED"}}},
    {"Expired", {{"hs_lead_status", "ATTEMPTED_TO_CONTACT"}}},
};

// The defaults with `status_map:` applied: a listed status replaces its default entry whole.
StatusMap merge_statuses(const StatusMap& defaults, config::MapReader& r) {
  StatusMap out = defaults;
  const auto node = r.child("status_map");
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    r.error("status_map", "expected a map of statuses, e.g. {Won: {Status: Closed - Converted}}");
    return out;
  }
  for (const auto& entry : node) {
    const auto status = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    const auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == status; });
    if (it == out.end()) {
      r.error("status_map", "'" + status + "' is not a status a CRM record follows; use Received, Accepted, "
                            "Declined, Won, Lost or Expired");
      continue;
    }
    it->second.clear();
    if (!entry.second.IsMap()) {
      r.error("status_map", "status_map." + status + " must be a map of CRM field: value ({} for none)");
      continue;
    }
    for (const auto& field : entry.second) {
      if (!field.first.IsScalar() || !field.second.IsScalar()) {
        r.error("status_map", "status_map." + status + " takes field: value pairs of plain values");
        continue;
      }
      it->second.emplace_back(field.first.Scalar(), field.second.Scalar());
    }
  }
  return out;
}

std::string secret(config::MapReader& r, const char* file_key, const char* env_key,
                   const std::filesystem::path& base_dir) {
  const auto file = r.string(file_key);
  const auto env = r.string(env_key);
  if (file.empty() == env.empty()) {
    r.error(file.empty() ? env_key : file_key, std::string("give exactly one of ") + file_key + " or " + env_key +
                                                   "; secrets are never written in the config itself");
    return {};
  }
  std::vector<std::string> values;
  std::string error;
  if (!read_secrets(file, env, base_dir, values, error)) {
    r.error(file.empty() ? env_key : file_key, error);
    return {};
  }
  return values.front();
}

void common(CrmOptions& o, config::MapReader& r, const std::filesystem::path& base_dir,
            const std::vector<FieldMapping>& default_fields, const StatusMap& default_statuses) {
  o.fields = merge_fields(default_fields, r, "fields");
  o.statuses = merge_statuses(default_statuses, r);
  const auto ca = r.string("ca_file");
  if (!ca.empty()) {
    o.ca_file = std::filesystem::path(ca).is_relative() ? base_dir / ca : std::filesystem::path(ca);
    if (!std::filesystem::exists(o.ca_file)) r.error("ca_file", "no such file: " + o.ca_file.string());
  }
  o.tls_verify = r.boolean("tls_verify");
  o.connect_timeout = r.duration("connect_timeout");
  o.request_timeout = r.duration("request_timeout");
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
  if (!o.url.empty() && o.url.rfind("https://", 0) != 0 && o.url.rfind("http://", 0) != 0) {
    r.error("url", "expected an https:// URL");
  }
}

}  // namespace

std::span<const KeySpec> dynamics_keys() { return kDynamicsKeys; }
std::span<const KeySpec> salesforce_keys() { return kSalesforceKeys; }
std::span<const KeySpec> hubspot_keys() { return kHubSpotKeys; }

const std::vector<FieldMapping>& dynamics_default_fields() { return kDynamicsFields; }
const std::vector<FieldMapping>& salesforce_default_fields() { return kSalesforceFields; }
const std::vector<FieldMapping>& hubspot_default_fields() { return kHubSpotFields; }
const StatusMap& dynamics_default_statuses() { return kDynamicsStatuses; }
const StatusMap& salesforce_default_statuses() { return kSalesforceStatuses; }
const StatusMap& hubspot_default_statuses() { return kHubSpotStatuses; }

std::shared_ptr<const void> parse_dynamics(config::MapReader& r, const std::filesystem::path& base_dir) {
  auto o = std::make_shared<CrmOptions>();
  o->kind = CrmKind::Dynamics;
  o->url = r.string("url");
  o->client_id = r.string("client_id");
  o->client_secret = secret(r, "client_secret_file", "client_secret_env", base_dir);
  o->token_url = r.string("token_url");
  const auto tenant = r.string("tenant");
  if (o->token_url.empty()) {
    if (tenant.empty()) r.error("tenant", "needs 'tenant' (or 'token_url') to get tokens from Entra ID");
    o->token_url = "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token";
  }
  o->key_field = r.string("alternate_key");
  o->entity = r.string("entity_set");
  common(*o, r, base_dir, kDynamicsFields, kDynamicsStatuses);
  o->scope = r.string("scope");
  if (o->scope.empty()) o->scope = o->url + "/.default";
  return o;
}

std::shared_ptr<const void> parse_salesforce(config::MapReader& r, const std::filesystem::path& base_dir) {
  auto o = std::make_shared<CrmOptions>();
  o->kind = CrmKind::Salesforce;
  o->url = r.string("url");
  o->client_id = r.string("client_id");
  o->client_secret = secret(r, "client_secret_file", "client_secret_env", base_dir);
  o->key_field = r.string("external_id_field");
  o->api_version = r.string("api_version");
  o->slow_down_at = static_cast<double>(r.integer("slow_down_at")) / 100.0;
  o->batch_size = static_cast<std::size_t>(r.integer("batch_size"));
  common(*o, r, base_dir, kSalesforceFields, kSalesforceStatuses);
  o->token_url = r.string("token_url");
  if (o->token_url.empty()) o->token_url = o->url + "/services/oauth2/token";
  return o;
}

std::shared_ptr<const void> parse_hubspot(config::MapReader& r, const std::filesystem::path& base_dir) {
  auto o = std::make_shared<CrmOptions>();
  o->kind = CrmKind::HubSpot;
  o->url = r.string("url");
  o->token = secret(r, "token_file", "token_env", base_dir);
  o->key_field = r.string("id_property");
  common(*o, r, base_dir, kHubSpotFields, kHubSpotStatuses);
  return o;
}

}  // namespace leadrelay::connectors::crm
