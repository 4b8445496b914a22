// leadrelay: receives sales-lead webhooks, stores each durably before answering, and relays clean leads.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>
#include <vector>

#include "connectors/kafka/mock_cluster.hpp"
#include "daemon/app/admin_cli.hpp"
#include "daemon/app/run.hpp"
#include "daemon/app/config.hpp"
#include "daemon/config/schema.hpp"
#include "daemon/http/admin_server.hpp"
#include "daemon/store/schema.hpp"
#include "daemon/util/strings.hpp"
#include "daemon/app/validate_command.hpp"
#include "daemon/app/notify_command.hpp"
#include "daemon/app/privacy_command.hpp"

namespace {
using namespace leadrelay;

constexpr std::string_view kUsage = R"(usage: leadrelay <command> [options]

commands:
  run --config FILE       run the daemon with FILE (stops gracefully on SIGTERM or SIGINT)
  check-config FILE       check FILE; prints every error as file:line:col: key.path: message
                          and exits 78 when there is one, 0 when the file is valid
  config-keys             print every configuration key with its type, default and meaning (Markdown)
  config-schema           print the JSON Schema of the configuration, for editors (schemas/config.schema.json)
  validate [--email E] [--phone P] [--country CC] [--no-dns] [--dns-server IP[:PORT]] [--config FILE]
                          print the email, phone and quality verdicts of one contact as JSON; with no
                          contact flags, read JSON lines ({"email":..,"phone":..,"country":..}) from stdin
                          and write one verdict line per line; --config uses that file's lists and DNS
  status [CONNECTION]     print the running daemon's status (config hash, last reload, outbox backlog)
  dlq list|show|replay [--sink S] [--id ID] [CONNECTION]
                          dead letters (deliveries a destination refused for good): list them, show one with
                          its lead, or queue them again once the cause is fixed
  leads list [--status S] [--country CC] [--hot true] [--FILTER V ...] [--limit N] [--cursor C] [CONNECTION]
  leads show ID | favorite ID [--off]
  leads accept ID --deal-name N --deal-value V --currency USD --close-date YYYY-MM-DD --notes T
                  [--crm-id X] [--campaign-id X] [--team a@x,b@y] [--if-match VERSION]
  leads decline|lose ID --reason 1-8 [--notes T]    leads win ID [--deal-value V] [--notes T]
                          the leads API: list (filters as in GET /api/v1/leads), show, and change leads
  export [--format csv|tsv] [--FILTER V ...] [--output FILE] [CONNECTION]
                          the newest 5,000 leads matching the filters, as CSV or TSV
  forget --email ADDR | --phone NUM | --lead-id ID [CONNECTION]
                          erase that person's contact data from the store (every copy), tell Kafka consumers
                          (a lead-erased event) and delete the CRM records (referrals_admin)
  export-person --email ADDR | --phone NUM | --lead-id ID [CONNECTION]
                          everything stored about that person, as JSON (subject access; referrals_admin)
  CONNECTION: --admin HOST:PORT or --config FILE (its admin section; default /etc/leadrelay/config.yaml),
              and the token from --token-file FILE or LEADRELAY_TOKEN
  notify test --config FILE [--to ADDR]
                          send one sample message over each notification channel (mail, Teams, Slack) and
                          print what each server answered
  backup FILE [--config FILE | --state-dir DIR]
                          a consistent copy of the running store (SQLite's online backup; intake goes on)
  restore FILE [--config FILE | --state-dir DIR]
                          a backup into an empty state_dir (with leadrelay stopped)
  audit [--action A] [--actor NAME] [--lead-id ID] [--since 2026-12-01] [--config FILE | --state-dir DIR]
                          the audit trail: who read, changed, exported or erased which leads, and backups
  store info [--config FILE | --state-dir DIR]
                          print the store's schema version, its size, free pages, WAL size and the rows and
                          bytes of each table (read-only: safe beside the running daemon)
  dev-broker [--brokers N] [--port P] [--produce-errors N]
                          run an in-memory Kafka cluster (librdkafka's mock) for local runs and tests; prints
                          its bootstrap address (127.0.0.1:P with --port); SIGUSR1 takes it down, SIGUSR2
                          brings it back; --produce-errors fails the first N produce requests (retriable)
  --version               print the version
  --help                  print this help

exit codes: 0 ok, 64 usage error, 65 bad input line (validate), 69 cannot listen, 73 cannot open the store
(or it was written by a newer leadrelay), 78 invalid config
documentation: README.md (configuration keys, sources, troubleshooting)
)";

int usage_error(std::string_view message) {
  std::cerr << "leadrelay: " << message << "\n\n" << kUsage;
  return app::kExitUsage;
}

// Prints the diagnostics; returns true when the config is valid.
bool report(const app::LoadResult& result) {
  for (const auto& d : result.errors) std::cerr << d.to_string() << "\n";
  if (!result.errors.empty()) {
    std::cerr << result.errors.size() << (result.errors.size() == 1 ? " error" : " errors")
              << "; nothing was started\n";
  }
  return result.config.has_value();
}

int check_config(const std::vector<std::string_view>& args) {
  if (args.size() != 1) return usage_error("check-config takes one file");
  const auto result = app::load_config_file(std::string(args[0]));
  if (!report(result)) return app::kExitConfig;
  std::cout << args[0] << ": OK (" << result.config->sources.size() << " source"
            << (result.config->sources.size() == 1 ? "" : "s") << ")\n";
  return app::kExitOk;
}

int config_keys() {
  std::cout << "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& table : app::key_tables()) {
    for (const auto& key : table.keys) {
      std::string type(config::key_type_name(key.type));
      if (key.type == config::KeyType::Enum) {
        type.clear();
        for (char c : key.choices) type += c == '|' ? std::string(" / ") : std::string(1, c);
      }
      std::cout << "| `" << (table.path.empty() ? "" : std::string(table.path) + ".") << key.name << "` | " << type
                << " | " << (key.required ? "required" : key.default_value.empty() ? "" : "`" + std::string(key.default_value) + "`")
                << " | " << (table.variant.empty() ? "" : "(" + std::string(table.variant) + ") ") << key.description
                << " |\n";
    }
  }
  return app::kExitOk;
}

// `leadrelay store info [--config FILE | --state-dir DIR]`
int store_command(const std::vector<std::string_view>& args) {
  if (args.empty() || args[0] != "info") return usage_error("store takes: info [--config FILE | --state-dir DIR]");
  std::string file = "/etc/leadrelay/config.yaml";
  std::string state_dir;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      file = args[++i];
    } else if (args[i] == "--state-dir" && i + 1 < args.size()) {
      state_dir = args[++i];
    } else {
      return usage_error("unknown option for store info: " + std::string(args[i]));
    }
  }
  if (state_dir.empty()) {
    const auto result = app::load_config_file(file);
    if (!report(result)) return app::kExitConfig;
    state_dir = result.config->state_dir.string();
  }
  store::StoreInfo info;
  std::string error;
  if (!store::read_store_info(state_dir, info, error)) {
    std::cerr << "leadrelay store info: " << error << "\n";
    return app::kExitCantCreate;
  }
  std::cout << store::format_store_info(info);
  return app::kExitOk;
}

// A whole decimal number within [low, high].
bool number_in(std::string_view text, int low, int high, int& out) {
  unsigned long long n = 0;
  if (!util::parse_u64(text, static_cast<unsigned long long>(high), n) || n < static_cast<unsigned long long>(low)) {
    return false;
  }
  out = static_cast<int>(n);
  return true;
}

int dev_broker(const std::vector<std::string_view>& args) {
  int brokers = 3;
  int port = 0;
  int produce_errors = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--produce-errors" && i + 1 < args.size()) {
      if (!number_in(args[++i], 1, 1000, produce_errors)) return usage_error("--produce-errors takes 1 to 1000");
    } else if (args[i] == "--brokers" && i + 1 < args.size()) {
      if (!number_in(args[++i], 1, 16, brokers)) return usage_error("--brokers takes 1 to 16");
    } else if (args[i] == "--port" && i + 1 < args.size()) {
      if (!number_in(args[++i], 1, 65535, port)) return usage_error("--port takes 1 to 65535");
    } else {
      return usage_error("unknown option for dev-broker: " + std::string(args[i]));
    }
  }
  return connectors::kafka::run_dev_broker(brokers, port, produce_errors);
}

int run(const std::vector<std::string_view>& args) {
  std::string_view file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      file = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      file = args[i].substr(9);
    } else {
      return usage_error("unknown option for run: " + std::string(args[i]));
    }
  }
  if (file.empty()) return usage_error("run needs --config FILE");
  const auto result = app::load_config_file(std::string(file));
  if (!report(result)) return app::kExitConfig;
  return app::run_daemon(*result.config);
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("no command given");
  const auto command = args.front();
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return app::kExitOk;
  }
  if (command == "--version" || command == "version") {
    std::cout << "leadrelay " << LEADRELAY_VERSION << "\n";
    return app::kExitOk;
  }
  if (command == "run") return run(rest);
  if (command == "check-config") return check_config(rest);
  if (command == "config-keys") return config_keys();
  if (command == "config-schema") {
    std::cout << app::config_json_schema();
    return app::kExitOk;
  }
  if (command == "dev-broker") return dev_broker(rest);
  if (command == "status") return app::status_command(rest);
  if (command == "leads") return app::leads_command(rest);
  if (command == "export") return app::export_command(rest);
  if (command == "validate") return app::validate_command(rest);
  if (command == "dlq") return app::dlq_command(rest);
  if (command == "store") return store_command(rest);
  if (command == "notify") return app::notify_command(rest);
  if (command == "backup") return app::backup_command(rest);
  if (command == "restore") return app::restore_command(rest);
  if (command == "audit") return app::audit_command(rest);
  if (command == "forget") return app::forget_command(rest);
  if (command == "export-person") return app::export_person_command(rest);
  return usage_error("unknown command '" + std::string(command) + "'");
}
