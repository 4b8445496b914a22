#include "daemon/notify/notify_config.hpp"

#include <algorithm>

#include "daemon/util/strings.hpp"

namespace leadrelay::notify {
namespace {
using config::KeySpec;
using config::KeyType;

constexpr std::int64_t kDayMs = 86400000;

constexpr KeySpec kKeys[] = {
    {"timezone", KeyType::String, "UTC", "the IANA time zone that days and digest_at are counted in (Europe/Berlin)"},
    {"digest_after", KeyType::Integer, "10",
     "a rule's leads of one day past this many go into its digest instead of one message each", false, 0, 100000},
    {"digest_at", KeyType::String, "08:00", "when (HH:MM, in timezone) the digest of the day before goes out"},
    {"digest_waiting", KeyType::Integer, "50", "a digest also lists up to this many leads still waiting for an answer",
     false, 0, 1000},
    {"warn_before", KeyType::Duration, "48h", "an `expiring` warning goes out this long before a Received lead expires",
     false, 60000, 365 * kDayMs},
    {"templates_dir", KeyType::String, "",
     "folder with replacements for the built-in mail templates (lead.subject.mustache, lead.txt.mustache, "
     "lead.html.mustache, digest.*.mustache)"},
    {"email", KeyType::Section, "", "the mail server that sends notification mails"},
    {"channels", KeyType::SectionList, "", "Teams and Slack incoming webhooks"},
    {"retry", KeyType::Section, "", "backoff and circuit breaker for every notification destination"},
    {"rules", KeyType::SectionList, "", "who is told of which leads", true},
};

constexpr KeySpec kRuleKeys[] = {
    {"name", KeyType::String, "", "the rule's name, in logs and messages", true},
    {"to", KeyType::StringList, "", "mail addresses (notifications.email sends to them)"},
    {"channels", KeyType::StringList, "", "names of notifications.channels[] entries"},
    {"when", KeyType::Section, "",
     "the leads this rule tells of, as a route's when: (default: leads that need the partner's answer: Contact me, "
     "profile and qualified leads)"},
    {"notify", KeyType::StringList, "new_lead, digest, expiring, hot",
     "what it sends: new_lead (one message per lead), digest, expiring (a warning before expiry), hot (at once)"},
    {"hot_when", KeyType::Section, "",
     "which of its leads are hot: sent at once, never held for the digest (default: {requested_contact: true})"},
};

constexpr std::string_view kKinds[] = {"new_lead", "digest", "expiring", "hot"};

bool parse_hhmm(const std::string& text, int& minutes) {
  if (text.size() != 5 || text[2] != ':' || !std::isdigit(static_cast<unsigned char>(text[0])) ||
      !std::isdigit(static_cast<unsigned char>(text[1])) || !std::isdigit(static_cast<unsigned char>(text[3])) ||
      !std::isdigit(static_cast<unsigned char>(text[4]))) {
    return false;
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 23 || m > 59) return false;
  minutes = h * 60 + m;
  return true;
}

std::string fingerprint(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

}  // namespace

std::span<const KeySpec> notification_keys() { return kKeys; }
std::span<const KeySpec> notification_rule_keys() { return kRuleKeys; }

NotifyConfig parse_notify_config(config::MapReader& r, const std::filesystem::path& base_dir,
                                 const routing::RouteContext& context, std::string console_base_url) {
  NotifyConfig c;
  c.configured = true;
  c.console_base_url = std::move(console_base_url);
  while (!c.console_base_url.empty() && c.console_base_url.back() == '/') c.console_base_url.pop_back();
  auto& diagnostics = r.diagnostics();
  c.timezone = r.string("timezone");
  std::string error;
  c.zone = Zone::open(c.timezone, error);
  if (!c.zone) r.error("timezone", error);
  c.digest_after = static_cast<int>(r.integer("digest_after"));
  if (!parse_hhmm(r.string("digest_at"), c.digest_at_minutes)) {
    r.error("digest_at", "expected a time of day as HH:MM, such as 08:00");
  }
  c.digest_waiting = static_cast<int>(r.integer("digest_waiting"));
  c.warn_before = r.duration("warn_before");
  c.templates_dir = r.string("templates_dir");
  if (!c.templates_dir.empty()) {
    const std::filesystem::path dir(c.templates_dir);
    c.templates_dir = (dir.is_relative() ? base_dir / dir : dir).lexically_normal().string();
    if (!std::filesystem::is_directory(c.templates_dir)) r.error("templates_dir", "no such folder: " + c.templates_dir);
  }
  c.templates = connectors::notify::Templates::load(c.templates_dir, error);
  if (!c.templates) r.error("templates_dir", error);
  if (r.has("email")) {
    config::MapReader email(diagnostics, r.child("email"), r.path_of("email"), connectors::notify::email_keys());
    c.email = connectors::notify::parse_email_config(email, base_dir);
  }
  c.channels = connectors::notify::parse_channels(diagnostics, r.child("channels"), base_dir);
  config::MapReader retry(diagnostics, r.child("retry"), r.path_of("retry"), connectors::retry_keys());
  c.retry = connectors::parse_retry(retry);
  c.delivery_fingerprint = fingerprint(r.child("email")) + "\n" + fingerprint(r.child("channels")) + "\n" +
                           fingerprint(r.child("retry")) + "\n" + c.templates_dir;

  const auto rules = r.child("rules");
  if (r.has("rules") && (!rules.IsSequence() || rules.size() == 0)) {
    r.error("rules", "expected a list of rules (each starts with '- name:')");
    return c;
  }
  for (std::size_t i = 0; rules.IsSequence() && i < rules.size(); ++i) {
    const auto path = "notifications.rules[" + std::to_string(i) + "]";
    config::MapReader rr(diagnostics, rules[i], path, kRuleKeys);
    NotifyRule rule;
    rule.line = static_cast<int>(rules[i].Mark().line) + 1;
    rule.name = rr.string("name");
    for (const auto& earlier : c.rules) {
      if (!rule.name.empty() && earlier.name == rule.name) {
        rr.error("name", "a second rule named '" + rule.name + "' (the first is on line " +
                             std::to_string(earlier.line) + "); messages are keyed by rule name");
      }
    }
    if (rule.name.find('|') != std::string::npos) rr.error("name", "a rule's name cannot contain '|'");
    rule.to = rr.string_list("to");
    for (const auto& address : rule.to) {
      std::string display;
      std::string mailbox;
      if (!connectors::notify::parse_mailbox(address, display, mailbox) || !display.empty()) {
        rr.error("to", "'" + address + "' is not a mail address; write addresses such as sales@example.com");
      }
    }
    if (!rule.to.empty() && !c.email.configured) {
      rr.error("to", "mail addresses need the mail server: add notifications.email (url, from)");
    }
    rule.channels = rr.string_list("channels");
    for (const auto& name : rule.channels) {
      const auto found = std::find_if(c.channels.begin(), c.channels.end(),
                                      [&](const connectors::notify::ChannelConfig& ch) { return ch.name == name; });
      if (found == c.channels.end()) {
        std::vector<std::string_view> names;
        for (const auto& ch : c.channels) names.push_back(ch.name);
        const auto suggestion = util::closest_match(name, names);
        rr.error("channels", "no channel is named '" + name + "'" +
                                 (suggestion.empty() ? "; declare it under notifications.channels"
                                                     : "; did you mean '" + std::string(suggestion) + "'?"));
      } else {
        rule.destinations.push_back(found->destination());
      }
    }
    if (rule.to.empty() && rule.channels.empty()) {
      rr.error("name", "the rule tells nobody: give 'to' (mail addresses) or 'channels'");
    }
    if (!rule.to.empty()) rule.destinations.insert(rule.destinations.begin(), std::string(connectors::notify::kEmailDestination));
    if (rr.has("when")) {
      rule.has_when = true;
      rule.when = routing::parse_condition(diagnostics, rr.child("when"), path + ".when", context);
    }
    if (rr.has("hot_when")) {
      rule.hot_when = routing::parse_condition(diagnostics, rr.child("hot_when"), path + ".hot_when", context);
    } else {
      rule.hot_when = routing::parse_condition(diagnostics, YAML::Load("{requested_contact: true}"), path + ".hot_when",
                                               context);
    }
    if (rr.has("notify")) {
      rule.new_lead = rule.digest = rule.expiring = rule.hot = false;
      for (const auto& kind : rr.string_list("notify")) {
        if (kind == "new_lead") {
          rule.new_lead = true;
        } else if (kind == "digest") {
          rule.digest = true;
        } else if (kind == "expiring") {
          rule.expiring = true;
        } else if (kind == "hot") {
          rule.hot = true;
        } else {
          const auto suggestion = util::closest_match(kind, {std::begin(kKinds), std::end(kKinds)});
          rr.error("notify", "'" + kind + "' is not a notification" +
                                 (suggestion.empty() ? "; expected new_lead, digest, expiring or hot"
                                                     : "; did you mean '" + std::string(suggestion) + "'?"));
        }
      }
    }
    c.rules.push_back(std::move(rule));
  }
  return c;
}

}  // namespace leadrelay::notify
