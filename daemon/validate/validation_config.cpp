#include "daemon/validate/validation_config.hpp"

#include <arpa/inet.h>

#include "daemon/util/strings.hpp"

namespace leadrelay::validate {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr KeySpec kValidationKeys[] = {
    {"disposable_list", KeyType::String, "",
     "file of throwaway email domains (one per line) → verdict Spam; default: the list built into this version "
     "(installed as /usr/share/leadrelay/lists/disposable_domains.txt)"},
    {"free_mail_list", KeyType::String, "", "file of free-mail domains → flag free_mail; default: the built-in list"},
    {"role_list", KeyType::String, "", "file of role mailbox names (info, sales, ...) → flag role_mailbox; default: built in"},
    {"spam_lists", KeyType::StringList, "", "more files of spam domains → verdict Spam"},
    {"spam_domains", KeyType::StringList, "", "spam domains (a domain also matches its subdomains) → verdict Spam"},
    {"allow_domains", KeyType::StringList, "", "domains never called Spam by the lists (e.g. your own)"},
    {"dns", KeyType::Section, "", "does the email's domain accept mail (MX, A/AAAA, null MX)"},
    {"quality", KeyType::Section, "", "the rules that make a lead's quality Low"},
};

constexpr KeySpec kDnsKeys[] = {
    {"enabled", KeyType::Boolean, "true", "look up the email domain's MX; off: email verdicts are at best Unknown"},
    {"servers", KeyType::StringList, "", "resolvers as ip or ip:port ([v6]:port); default: /etc/resolv.conf"},
    {"timeout", KeyType::Duration, "2s", "deadline of one domain's lookup; past it the verdict is Unknown", false, 50,
     60000},
    {"max_concurrent", KeyType::Integer, "64", "lookups in flight at most", false, 1, 10000},
    {"cache_entries", KeyType::Integer, "100000", "domains cached at most (answers are kept for their TTL)", false, 0,
     100000000},
    {"negative_ttl", KeyType::Duration, "5m",
     "how long a missing domain is remembered when the answer carries no SOA", false, 0, 86400000},
    {"max_ttl", KeyType::Duration, "1h", "no answer is cached longer than this", false, 0, 7 * 86400000LL},
};

constexpr KeySpec kQualityKeys[] = {
    {"low_when", KeyType::StringList,
     "email_invalid, email_spam, phone_invalid, no_contact, test_lead, placeholder_name, phone_country_mismatch",
     "reasons that make a lead's quality Low: email_invalid, email_spam, email_unknown, phone_invalid, no_contact, "
     "test_lead, placeholder_name, phone_country_mismatch, role_mailbox, free_mail"},
    {"placeholder_names", KeyType::StringList,
     "test, testing, tester, asdf, asd, qwerty, xxx, n/a, na, none, null, nil, abc, foo, bar, fake, dummy, sample, "
     "demo, unknown, noname, no name, firstname, lastname, first name, last name, name, company, your name, "
     "john doe, jane doe, mickey mouse",
     "first names, last names, full names or companies that mark a fake lead (reason placeholder_name); a value of "
     "one repeated character (aaa) counts too"},
};

constexpr std::string_view kQualityReasons[] = {
    "email_invalid", "email_spam",      "email_unknown",          "phone_invalid", "no_contact",
    "test_lead",     "placeholder_name", "phone_country_mismatch", "role_mailbox",  "free_mail"};

std::filesystem::path resolve(const std::filesystem::path& base_dir, const std::string& file) {
  if (file.empty()) return {};
  const std::filesystem::path p(file);
  return (p.is_relative() ? base_dir / p : p).lexically_normal();
}

// "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353"
bool valid_server(const std::string& s) {
  unsigned char buf[16];
  std::string host = s;
  std::string port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return false;
      port = s.substr(close + 2);
    }
    if (inet_pton(AF_INET6, host.c_str(), buf) != 1) return false;
  } else if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return true;
  } else {
    if (const auto colon = s.rfind(':'); colon != std::string::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
    }
    if (inet_pton(AF_INET, host.c_str(), buf) != 1) return false;
  }
  if (port.empty()) return true;
  unsigned long long n = 0;
  return util::parse_u64(port, n) && n > 0 && n < 65536;
}

}  // namespace

std::span<const KeySpec> validation_keys() { return kValidationKeys; }
std::span<const KeySpec> dns_keys() { return kDnsKeys; }
std::span<const KeySpec> quality_keys() { return kQualityKeys; }

std::vector<std::string_view> quality_reason_names() { return {std::begin(kQualityReasons), std::end(kQualityReasons)}; }

ValidationConfig parse_validation_config(config::MapReader& r, const std::filesystem::path& base_dir) {
  ValidationConfig c;
  c.disposable_list = resolve(base_dir, r.string("disposable_list"));
  c.free_mail_list = resolve(base_dir, r.string("free_mail_list"));
  c.role_list = resolve(base_dir, r.string("role_list"));
  for (const auto& f : r.string_list("spam_lists")) c.spam_lists.push_back(resolve(base_dir, f));
  c.spam_domains = r.string_list("spam_domains");
  c.allow_domains = r.string_list("allow_domains");

  config::MapReader dns(r.diagnostics(), r.child("dns"), r.path_of("dns"), kDnsKeys);
  c.dns.enabled = dns.boolean("enabled");
  c.dns.servers = dns.string_list("servers");
  for (const auto& s : c.dns.servers) {
    if (!valid_server(s)) {
      dns.error("servers", "'" + s + "' is not an IP address with an optional port (1.2.3.4:53, [::1]:5353); "
                           "name the resolver by address");
    }
  }
  c.dns.timeout = dns.duration("timeout");
  c.dns.max_concurrent = static_cast<int>(dns.integer("max_concurrent"));
  c.dns.cache_entries = static_cast<std::size_t>(dns.integer("cache_entries"));
  c.dns.negative_ttl = dns.duration("negative_ttl");
  c.dns.max_ttl = dns.duration("max_ttl");

  config::MapReader quality(r.diagnostics(), r.child("quality"), r.path_of("quality"), kQualityKeys);
  c.quality.low_when = quality.string_list("low_when");
  const auto names = quality_reason_names();
  for (const auto& reason : c.quality.low_when) {
    if (std::find(names.begin(), names.end(), reason) != names.end()) continue;
    std::string message = "unknown quality reason '" + reason + "'";
    if (const auto hint = util::closest_match(reason, names); !hint.empty()) {
      message += "; did you mean '" + std::string(hint) + "'?";
    } else {
      message += "; expected " + util::join_choices(names);
    }
    quality.error("low_when", message);
  }
  c.quality.placeholder_names = quality.string_list("placeholder_names");
  return c;
}

ValidationConfig default_validation_config() {
  config::Diagnostics diagnostics("(defaults)");
  config::MapReader r(diagnostics, YAML::Node(), "validation", kValidationKeys);
  return parse_validation_config(r, {});
}

}  // namespace leadrelay::validate
