#include "daemon/app/admin_cli.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "daemon/app/run.hpp"
#include "daemon/http/admin_server.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::app {
namespace {

constexpr const char* kDefaultConfig = "/etc/leadrelay/config.yaml";

int usage(std::string_view command, std::string_view message) {
  std::cerr << "leadrelay " << command << ": " << message << " (see leadrelay --help)\n";
  return kExitUsage;
}

std::string percent_encode(std::string_view value) { return util::url_encode(value, ":,"); }

// The options every admin command takes; the rest are left in `options` (--name value) and `positional`.
struct Parsed {
  http::AdminCall call;
  std::string config = kDefaultConfig;
  std::string token_file;
  std::map<std::string, std::string> options;  // in name order
  std::vector<std::string> flags;              // options without a value (--off)
  std::vector<std::string> positional;
  std::string problem;
};

Parsed parse(const Args& args, std::size_t from, const std::vector<std::string_view>& value_free = {}) {
  Parsed p;
  for (std::size_t i = from; i < args.size(); ++i) {
    const auto a = args[i];
    if (a.rfind("--", 0) != 0) {
      p.positional.emplace_back(a);
      continue;
    }
    const std::string name(a.substr(2));
    if (std::find(value_free.begin(), value_free.end(), name) != value_free.end()) {
      p.flags.push_back(name);
      continue;
    }
    if (i + 1 >= args.size()) {
      p.problem = "--" + name + " needs a value";
      return p;
    }
    const std::string value(args[++i]);
    if (name == "admin") {
      p.call.address = value;
    } else if (name == "config") {
      p.config = value;
    } else if (name == "token-file") {
      p.token_file = value;
    } else {
      p.options[name] = value;
    }
  }
  return p;
}

// Where the listener is (--admin, else the config's admin.listen), whether it serves TLS (the config's
// admin.tls_cert_file, which is then the one certificate trusted), and the token; false having printed why.
bool connect(Parsed& p, std::string_view command) {
  const bool explicit_config = p.config != kDefaultConfig;
  std::error_code ec;
  if (p.call.address.empty() || explicit_config || std::filesystem::exists(p.config, ec)) {
    try {
      const auto root = YAML::LoadFile(p.config);
      const auto admin = root["admin"];
      if (p.call.address.empty()) {
        p.call.address = admin && admin["listen"] ? admin["listen"].as<std::string>() : "127.0.0.1:9464";
      }
      if (admin && admin["tls_cert_file"]) {
        std::filesystem::path cert = admin["tls_cert_file"].as<std::string>();
        if (cert.is_relative()) cert = std::filesystem::absolute(p.config).parent_path() / cert;
        p.call.tls = true;
        p.call.ca_file = cert.string();
      }
    } catch (const YAML::Exception& e) {
      if (p.call.address.empty() || explicit_config) {
        std::cerr << "leadrelay " << command << ": cannot read the admin section of " << p.config << ": "
                  << e.what() << " (or give --admin HOST:PORT)\n";
        return false;
      }
    }
  }
  if (!p.token_file.empty()) {
    std::ifstream in(p.token_file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      std::cerr << "leadrelay " << command << ": cannot read the token file " << p.token_file << "\n";
      return false;
    }
    p.call.token = std::string(util::trim(line));
  } else if (const char* env = std::getenv("LEADRELAY_TOKEN"); env != nullptr) {
    p.call.token = std::string(util::trim(env));
  }
  return true;
}

int send(Parsed& p, std::string_view command) {
  if (!connect(p, command)) return kExitUsage;
  return http::admin_request(p.call, command);
}

std::string query_of(const std::map<std::string, std::string>& options) {
  std::string q;
  for (const auto& [name, value] : options) {
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    q += (q.empty() ? "?" : "&") + key + "=" + percent_encode(value);
  }
  return q;
}

// The JSON body of a change from its options: --deal-name N --deal-value 12.5 --team a@x,b@y ...
bool change_body(const std::map<std::string, std::string>& options, std::string& body, std::string& problem) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [name, value] : options) {
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    if (key == "if_match") continue;
    w.Key(key.c_str());
    if (key == "deal_value") {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0') {
        problem = "--deal-value takes a number";
        return false;
      }
      w.Double(v);
    } else if (key == "team") {
      w.StartArray();
      for (const auto& item : util::split_list(value)) w.String(item.c_str(), static_cast<rapidjson::SizeType>(item.size()));
      w.EndArray();
    } else {
      w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    }
  }
  w.EndObject();
  body.assign(buffer.GetString(), buffer.GetSize());
  return true;
}

}  // namespace

int status_command(const Args& args) {
  auto p = parse(args, 0);
  if (!p.problem.empty()) return usage("status", p.problem);
  if (!p.options.empty() || !p.positional.empty()) return usage("status", "takes only --admin, --config, --token-file");
  p.call.target = "/status";
  return send(p, "status");
}

int dlq_command(const Args& args) {
  if (args.empty() || (args[0] != "list" && args[0] != "show" && args[0] != "replay")) {
    return usage("dlq", "takes list, show or replay");
  }
  auto p = parse(args, 1);
  if (!p.problem.empty()) return usage("dlq", p.problem);
  for (const auto& [name, value] : p.options) {
    if (name != "sink" && name != "id") return usage("dlq", "unknown option --" + name);
    if (name == "id" && value.find_first_not_of("0123456789") != std::string::npos) {
      return usage("dlq", "--id takes a number");
    }
  }
  if (args[0] == "show") {
    if (p.options.count("id") == 0) return usage("dlq", "dlq show needs --id");
    p.call.target = "/dlq/" + p.options["id"];
  } else {
    p.call.target = (args[0] == "replay" ? "/dlq/replay" : "/dlq") + query_of(p.options);
    if (args[0] == "replay") p.call.method = "POST";
  }
  return send(p, "dlq");
}

int leads_command(const Args& args) {
  const std::vector<std::string_view> verbs = {"list", "show", "accept", "decline", "win", "lose", "favorite"};
  if (args.empty() || std::find(verbs.begin(), verbs.end(), args[0]) == verbs.end()) {
    return usage("leads", "takes list, show, accept, decline, win, lose or favorite");
  }
  const std::string verb(args[0]);
  auto p = parse(args, 1, {"off"});
  if (!p.problem.empty()) return usage("leads", p.problem);
  if (verb == "list") {
    if (!p.positional.empty()) return usage("leads", "list takes filters as --name value, e.g. --status Received");
    p.call.target = "/api/v1/leads" + query_of(p.options);
    return send(p, "leads");
  }
  if (p.positional.size() != 1) return usage("leads", verb + " needs one lead id");
  const auto id = percent_encode(p.positional[0]);
  if (verb == "show") {
    p.call.target = "/api/v1/leads/" + id;
    return send(p, "leads");
  }
  if (verb == "favorite") {
    p.call.method = std::find(p.flags.begin(), p.flags.end(), "off") != p.flags.end() ? "DELETE" : "PUT";
    p.call.target = "/api/v1/leads/" + id + "/favorite";
    return send(p, "leads");
  }
  if (const auto it = p.options.find("if-match"); it != p.options.end()) p.call.if_match = "\"" + it->second + "\"";
  std::string problem;
  if (!change_body(p.options, p.call.body, problem)) return usage("leads", problem);
  p.call.method = "POST";
  p.call.target = "/api/v1/leads/" + id + "/" + verb;
  return send(p, "leads");
}

namespace {
// --email, --phone or --lead-id, exactly one, as {"email": ...} and ?email=...
bool person_of(std::string_view command, Parsed& p, std::string& json, std::string& query) {
  int n = 0;
  for (const auto& [name, value] : p.options) {
    if (name != "email" && name != "phone" && name != "lead-id") {
      usage(command, "unknown option --" + name);
      return false;
    }
    const auto key = name == "lead-id" ? std::string("lead_id") : name;
    json = "{" + util::json_quote(key) + ":" + util::json_quote(value) + "}";
    query = "?" + key + "=" + percent_encode(value);
    ++n;
  }
  if (n != 1 || !p.positional.empty()) {
    usage(command, "name the person with exactly one of --email, --phone or --lead-id");
    return false;
  }
  return true;
}
}  // namespace

int forget_command(const Args& args) {
  auto p = parse(args, 0);
  if (!p.problem.empty()) return usage("forget", p.problem);
  std::string query;
  if (!person_of("forget", p, p.call.body, query)) return kExitUsage;
  p.call.method = "POST";
  p.call.target = "/api/v1/privacy/erase";
  return send(p, "forget");
}

int export_person_command(const Args& args) {
  auto p = parse(args, 0);
  if (!p.problem.empty()) return usage("export-person", p.problem);
  std::string body;
  std::string query;
  if (!person_of("export-person", p, body, query)) return kExitUsage;
  p.call.target = "/api/v1/privacy/person" + query;
  return send(p, "export-person");
}

int export_command(const Args& args) {
  auto p = parse(args, 0);
  if (!p.problem.empty()) return usage("export", p.problem);
  std::string output;
  if (const auto it = p.options.find("output"); it != p.options.end()) {
    output = it->second;
    p.options.erase(it);
  }
  if (p.options.count("format") == 0) p.options["format"] = "csv";
  p.call.target = "/api/v1/leads/export" + query_of(p.options);
  if (!connect(p, "export")) return kExitUsage;
  const auto answer = http::admin_call(p.call);
  if (answer.status == 0) {
    std::cerr << "leadrelay export: " << answer.error << "\n";
    return 69;
  }
  if (answer.status != 200) {
    std::cerr << "leadrelay export: " << answer.body << "\n";
    return 1;
  }
  if (output.empty()) {
    std::cout << answer.body;
  } else {
    std::ofstream out(output, std::ios::binary);
    out << answer.body;
    if (!out) {
      std::cerr << "leadrelay export: cannot write " << output << "\n";
      return kExitCantCreate;
    }
  }
  for (const auto& [name, value] : answer.headers) {
    if (util::to_lower(name) == "x-total-count") std::cerr << "leadrelay export: " << value << " leads match\n";
  }
  return kExitOk;
}

}  // namespace leadrelay::app
