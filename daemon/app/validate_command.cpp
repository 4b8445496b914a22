#include "daemon/app/validate_command.hpp"

#include <rapidjson/document.h>

#include <iostream>
#include <optional>
#include <string>

#include "daemon/app/config.hpp"
#include "daemon/validate/ares_resolver.hpp"
#include "daemon/validate/validator.hpp"

namespace leadrelay::app {
namespace {
using validate::AresResolver;
using validate::Contact;
using validate::MailDomainResolver;
using validate::MailDomains;
using validate::ValidationConfig;
using validate::Validator;
using validate::default_validation_config;


constexpr int kUsage = 64;
constexpr int kDataError = 65;
constexpr int kConfigError = 78;

std::string field(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                     : std::string();
}

std::string verdicts(const Validator& validator, MailDomainResolver* resolver, const Contact& contact) {
  MailDomains mail;
  if (resolver != nullptr) {
    if (const auto domain = validator.domain_to_resolve(contact.email); !domain.empty()) {
      mail = resolver->resolve({domain});
    }
  }
  const auto v = validator.check(contact, resolver != nullptr ? &mail : nullptr);
  return model::verdicts_to_json(v.email, v.phone, v.quality, v.quality_reasons);
}

}  // namespace

int validate_command(const std::vector<std::string_view>& args) {
  std::optional<std::string> email, phone, country, config_file, dns_server;
  bool no_dns = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto value = [&](std::optional<std::string>& out) {
      if (i + 1 >= args.size()) return false;
      out = std::string(args[++i]);
      return true;
    };
    bool ok = true;
    if (args[i] == "--email") {
      ok = value(email);
    } else if (args[i] == "--phone") {
      ok = value(phone);
    } else if (args[i] == "--country") {
      ok = value(country);
    } else if (args[i] == "--config") {
      ok = value(config_file);
    } else if (args[i] == "--dns-server") {
      ok = value(dns_server);
    } else if (args[i] == "--no-dns") {
      no_dns = true;
    } else {
      std::cerr << "leadrelay validate: unknown option " << args[i] << "\n";
      return kUsage;
    }
    if (!ok) {
      std::cerr << "leadrelay validate: " << args[i] << " needs a value\n";
      return kUsage;
    }
  }

  // The lists, rules and resolver of the config when one is named, else the built-in lists and defaults.
  ValidationConfig settings = default_validation_config();
  std::shared_ptr<const Validator> validator = Validator::defaults();
  if (config_file) {
    auto loaded = load_config_file(*config_file);
    if (!loaded.config) {
      for (const auto& d : loaded.errors) std::cerr << d.to_string() << "\n";
      return kConfigError;
    }
    settings = loaded.config->validation;
    validator = loaded.config->validator;
  }
  if (dns_server) settings.dns.servers = {*dns_server};
  std::unique_ptr<AresResolver> resolver;
  if (!no_dns && settings.dns.enabled) {
    std::string error;
    resolver = AresResolver::create(settings.dns, error);
    if (!resolver) {
      std::cerr << "leadrelay validate: " << error << " (--no-dns skips DNS)\n";
      return kConfigError;
    }
  }

  if (email || phone || country) {
    Contact c;
    c.email = email.value_or("");
    c.phone = phone.value_or("");
    c.country = country.value_or("");
    std::cout << verdicts(*validator, resolver.get(), c) << std::endl;
    return 0;
  }

  int status = 0;
  std::string line;
  for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    if (d.HasParseError() || !d.IsObject()) {
      std::cout << R"({"error":"line )" << number << R"( is not a JSON object"})" << std::endl;
      status = kDataError;
      continue;
    }
    Contact c{field(d, "email"),     field(d, "phone"),     field(d, "country"), field(d, "first_name"),
              field(d, "last_name"), field(d, "company"), false};
    if (const auto it = d.FindMember("test_lead"); it != d.MemberEnd() && it->value.IsBool()) {
      c.test_lead = it->value.GetBool();
    }
    // One line at a time, flushed: a caller can feed lines as it goes; repeated domains come from the cache.
    std::cout << verdicts(*validator, resolver.get(), c) << std::endl;
  }
  return status;
}

}  // namespace leadrelay::app
