#pragma once
// `notifications:`: who is told of which leads, how (mail, Teams, Slack) and when: one message per lead
// (new_lead), a digest once a rule's leads of one day pass `digest_after`, a warning before a lead expires
// unanswered (expiring), and at once when the customer asked to be called (hot). Rules select leads with the
// same `when:` conditions as routes.
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "connectors/notify/channel_config.hpp"
#include "connectors/notify/templates.hpp"
#include "connectors/sinks/sink_config.hpp"
#include "daemon/config/yaml_reader.hpp"
#include "daemon/notify/local_time.hpp"
#include "daemon/routing/router.hpp"

namespace leadrelay::notify {

struct NotifyRule {
  std::string name;
  int line = 0;
  std::vector<std::string> to;        // mail addresses
  std::vector<std::string> channels;  // notifications.channels[] names
  bool has_when = false;              // false: leads that need the partner's answer
  routing::Condition when;
  routing::Condition hot_when;        // default: {requested_contact: true}
  bool new_lead = true, digest = true, expiring = true, hot = true;
  // The outbox destinations of its messages: "notify:email" when it has addresses, and its channels'.
  std::vector<std::string> destinations;
};

struct NotifyConfig {
  bool configured = false;
  std::string timezone = "UTC";
  std::shared_ptr<const Zone> zone;
  int digest_after = 10;
  int digest_at_minutes = 8 * 60;
  std::chrono::milliseconds warn_before{48 * 3600 * 1000LL};
  int digest_waiting = 50;  // leads still waiting for an answer that a digest lists at most
  std::string templates_dir;
  std::shared_ptr<const connectors::notify::Templates> templates;
  connectors::notify::EmailConfig email;
  std::vector<connectors::notify::ChannelConfig> channels;
  std::vector<NotifyRule> rules;
  connectors::RetryPolicy retry;
  std::string console_base_url;  // console.base_url: each lead's link is <base>/console/leads/<id>
  std::string delivery_fingerprint;  // the mail server, channels, retry and templates as written: a change needs a restart
};

std::span<const config::KeySpec> notification_keys();
std::span<const config::KeySpec> notification_rule_keys();
// `console_base_url` comes from the top-level console section.
NotifyConfig parse_notify_config(config::MapReader& r, const std::filesystem::path& base_dir,
                                 const routing::RouteContext& context, std::string console_base_url);

}  // namespace leadrelay::notify
