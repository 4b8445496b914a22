#include "daemon/app/config.hpp"

#include "connectors/pc_referral/pc_referral_format.hpp"
#include "daemon/config/schema.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace leadrelay::app {
namespace {
using config::Diagnostics;
using config::KeySpec;
using config::KeyType;
using config::MapReader;


constexpr KeySpec kTopKeys[] = {
    {"state_dir", KeyType::String, "", "folder for the journal and all other state; relative to the config file",
     true},
    {"server", KeyType::Section, "", "the HTTP listener that receives webhooks"},
    {"admin", KeyType::Section, "",
     "the operators' listener: Prometheus /metrics, /healthz, /readyz, /status, /dlq and the leads API"},
    {"journal", KeyType::Section, "", "the durable store that every accepted lead is written to first"},
    {"logging", KeyType::Section, "", "log output (JSON lines on stderr)"},
    {"sources", KeyType::SectionList, "", "the webhook endpoints, one per sender", true},
    {"kafka", KeyType::Section, "", "the Kafka cluster leads are published to"},
    {"sinks", KeyType::SectionList, "", "CRM, webhook and file destinations, each with a name and a type"},
    {"outbox", KeyType::Section, "", "limits on leads waiting for delivery"},
    {"dedup", KeyType::Section, "", "linking leads of the same person for the same offer"},
    {"lifecycle", KeyType::Section, "", "lead statuses: the response window, hot leads and the events topic"},
    {"partner_center", KeyType::Section, "",
     "the Referrals API that pc-referral sources fetch referrals from and write their statuses back to"},
    {"validation", KeyType::Section, "", "email, phone and spam-domain verdicts and lead quality"},
    {"notifications", KeyType::Section, "",
     "mails, Teams and Slack messages about new leads, digests, expiring and hot leads"},
    {"console", KeyType::Section, "", "where admins reach leadrelay's pages (links in notifications)"},
    {"insights", KeyType::Section, "", "lead insights: the USD rates won values are converted with"},
    {"retention", KeyType::Section, "", "how long contact data and leads are kept"},
    {"routes", KeyType::SectionList, "",
     "ordered rules that send each lead to destinations or drop it; a lead no rule matches is kept and logged"},
};

constexpr KeySpec kConsoleKeys[] = {
    {"base_url", KeyType::String, "",
     "the address admins open leadrelay's admin listener at, such as https://leads.example.com:9443; notifications "
     "link each lead as <base_url>/console/leads/<id>"},
};

constexpr KeySpec kLoggingKeys[] = {
    {"level", KeyType::Enum, "info", "least severe level written", false, 0, 0, "debug|info|warn|error"},
};

LoggingConfig parse_logging(MapReader& r) {
  LoggingConfig c;
  log::parse_level(r.enumeration("level"), c.level);
  return c;
}

bool by_position(const Diagnostic& a, const Diagnostic& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

}  // namespace

std::vector<KeyTable> key_tables() {
  std::vector<KeyTable> tables = {
      {"", kTopKeys},
      {"server", http::server_keys()},
      {"admin", http::admin_keys()},
      {"admin.tokens[]", http::admin_token_keys()},
      {"journal", store::journal_keys()},
      {"logging", kLoggingKeys},
      {"sources[]", intake::source_keys()},
      {"sources[].auth", intake::auth_keys()},
      {"kafka", connectors::kafka::kafka_keys()},
      {"outbox", outbox::outbox_keys()},
      {"dedup", outbox::dedup_keys()},
      {"lifecycle", lifecycle::lifecycle_keys()},
      {"partner_center", connectors::pc_referral::partner_center_keys()},
      {"validation", validate::validation_keys()},
      {"validation.dns", validate::dns_keys()},
      {"validation.quality", validate::quality_keys()},
      {"notifications", notify::notification_keys()},
      {"notifications.email", connectors::notify::email_keys()},
      {"notifications.channels[]", connectors::notify::channel_keys()},
      {"notifications.retry", connectors::retry_keys()},
      {"notifications.rules[]", notify::notification_rule_keys()},
      {"console", kConsoleKeys},
      {"insights", insights::insights_keys()},
      {"retention", leads::retention_keys()},
      {"routes[]", routing::rule_keys()},
      {"sinks[]", connectors::common_sink_keys()},
  };
  static std::vector<std::string> variants;
  if (variants.empty()) {
    for (const auto& t : connectors::sink_types()) variants.push_back("type: " + std::string(t.type));
  }
  std::size_t i = 0;
  for (const auto& t : connectors::sink_types()) tables.push_back({"sinks[]", t.keys, variants[i++]});
  return tables;
}

LoadResult load_config_text(const std::string& text, const std::string& file, const std::filesystem::path& base_dir) {
  LoadResult result;
  Diagnostics diagnostics(file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    diagnostics.add(e.mark, "", "YAML syntax error: " + e.msg);
    result.errors = diagnostics.items();
    return result;
  }
  if (root.IsNull() || !root.IsDefined()) {
    diagnostics.add(YAML::Mark::null_mark(), "", "the file is empty; see config.example.yaml for a starting point");
    result.errors = diagnostics.items();
    return result;
  }

  Config c;
  c.file = file;
  MapReader top(diagnostics, root, "", kTopKeys);
  const auto state_dir = top.string("state_dir");
  if (top.has("state_dir")) {
    const std::filesystem::path dir(state_dir);
    c.state_dir = dir.is_relative() ? base_dir / dir : dir;
    c.state_dir = c.state_dir.lexically_normal();
  }
  MapReader server(diagnostics, top.child("server"), "server", http::server_keys());
  c.server = http::parse_server_config(server, base_dir);
  MapReader admin(diagnostics, top.child("admin"), "admin", http::admin_keys());
  c.admin = http::parse_admin_config(admin, base_dir);
  MapReader journal(diagnostics, top.child("journal"), "journal", store::journal_keys());
  c.journal = store::parse_journal_config(journal);
  MapReader logging(diagnostics, top.child("logging"), "logging", kLoggingKeys);
  c.logging = parse_logging(logging);
  c.sources = intake::parse_sources(diagnostics, top.child("sources"), base_dir);
  if (top.has("sources") && c.sources.empty() && top.child("sources").IsSequence()) {
    top.error("sources", "needs at least one source; see config.example.yaml");
  }
  if (top.has("kafka")) {
    MapReader kafka(diagnostics, top.child("kafka"), "kafka", connectors::kafka::kafka_keys());
    c.kafka = connectors::kafka::parse_kafka_config(kafka);
  }
  MapReader outbox(diagnostics, top.child("outbox"), "outbox", outbox::outbox_keys());
  c.outbox = outbox::parse_outbox_config(outbox);
  MapReader dedup(diagnostics, top.child("dedup"), "dedup", outbox::dedup_keys());
  c.dedup = outbox::parse_dedup_config(dedup);
  MapReader lifecycle(diagnostics, top.child("lifecycle"), "lifecycle", lifecycle::lifecycle_keys());
  c.lifecycle = lifecycle::parse_lifecycle_config(lifecycle);
  if (top.has("partner_center")) {
    MapReader pc(diagnostics, top.child("partner_center"), "partner_center",
                 connectors::pc_referral::partner_center_keys());
    c.partner_center = connectors::pc_referral::parse_partner_center_config(pc, base_dir);
  }
  if (!c.partner_center.configured) {
    const auto node = top.child("sources");
    for (std::size_t i = 0; i < c.sources.size(); ++i) {
      if (c.sources[i].format != connectors::pc_referral::kFormatName) continue;
      diagnostics.add(node.IsSequence() && i < node.size() ? node[i]["format"].Mark() : top.mark(),
                      "sources[" + std::to_string(i) + "].format",
                      "format pc-referral fetches each referral from Partner Center: add a 'partner_center:' section "
                      "(client_id, tenant, refresh_token_file; README \"Partner Center referrals\")");
    }
  }
  MapReader validation(diagnostics, top.child("validation"), "validation", validate::validation_keys());
  c.validation = validate::parse_validation_config(validation, base_dir);
  {
    std::vector<std::pair<std::string, std::string>> list_errors;
    c.validator = validate::Validator::build(c.validation, list_errors);
    for (const auto& [key, message] : list_errors) {
      validation.error(key, message + "; check the path (relative paths start at the config file's folder)");
    }
  }
  c.sinks = connectors::parse_sinks(diagnostics, top.child("sinks"), base_dir);
  routing::RouteContext route_context;
  for (const auto& s : c.sources) route_context.source_names.push_back(s.name);
  for (const auto& s : c.sinks) route_context.sink_names.push_back(s.name);
  route_context.kafka_configured = c.kafka.configured;
  c.routes = std::make_shared<const routing::RouteTable>(
      routing::parse_routes(diagnostics, top.child("routes"), route_context));
  MapReader retention(diagnostics, top.child("retention"), "retention", leads::retention_keys());
  c.retention = leads::parse_retention_config(retention);
  MapReader console(diagnostics, top.child("console"), "console", kConsoleKeys);
  c.console_base_url = console.string("base_url");
  if (!c.console_base_url.empty() && c.console_base_url.rfind("https://", 0) != 0 &&
      c.console_base_url.rfind("http://", 0) != 0) {
    console.error("base_url", "expected an address such as https://leads.example.com:9443");
  }
  MapReader insights(diagnostics, top.child("insights"), "insights", insights::insights_keys());
  c.insights = insights::parse_insights_config(insights);
  if (top.has("notifications")) {
    MapReader notifications(diagnostics, top.child("notifications"), "notifications", notify::notification_keys());
    c.notifications = notify::parse_notify_config(notifications, base_dir, route_context, c.console_base_url);
  }

  result.errors = diagnostics.items();
  std::stable_sort(result.errors.begin(), result.errors.end(), by_position);
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

std::string config_json_schema() { return config::json_schema(key_tables(), routing::field_names()); }

LoadResult load_config_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    LoadResult result;
    Diagnostic d;
    d.file = file.string();
    d.line = 1;
    d.column = 1;
    d.message = std::string("cannot read the config file: ") + std::strerror(errno);
    result.errors.push_back(std::move(d));
    return result;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto base = std::filesystem::absolute(file).parent_path();
  return load_config_text(text.str(), file.string(), base);
}

}  // namespace leadrelay::app
