#include "daemon/app/notify_command.hpp"

#include <iostream>
#include <set>
#include <string>

#include "connectors/notify/chat_sink.hpp"
#include "connectors/notify/smtp_sink.hpp"
#include "daemon/app/config.hpp"
#include "daemon/app/run.hpp"
#include "daemon/log/log.hpp"
#include "daemon/notify/document.hpp"

namespace leadrelay::app {
namespace {

int usage(const std::string& message) {
  std::cerr << "leadrelay notify: " << message << "\nusage: leadrelay notify test --config FILE [--to ADDR]\n";
  return kExitUsage;
}

std::string_view status_name(connectors::DeliveryResult::Status s) {
  switch (s) {
    case connectors::DeliveryResult::Status::Ok: return "sent";
    case connectors::DeliveryResult::Status::Retry: return "failed (would be retried)";
    case connectors::DeliveryResult::Status::Permanent: return "refused";
  }
  return "?";
}

}  // namespace

int notify_command(const std::vector<std::string_view>& args) {
  if (args.empty() || args[0] != "test") return usage("the only subcommand is test");
  std::string file;
  std::string to;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      file = std::string(args[++i]);
    } else if (args[i] == "--to" && i + 1 < args.size()) {
      to = std::string(args[++i]);
    } else {
      return usage("unknown option " + std::string(args[i]));
    }
  }
  if (file.empty()) return usage("needs --config FILE");
  const auto loaded = load_config_file(file);
  if (!loaded.config) {
    for (const auto& d : loaded.errors) std::cerr << d.to_string() << "\n";
    return kExitConfig;
  }
  const auto& n = loaded.config->notifications;
  if (!n.configured) {
    std::cerr << file << ": has no notifications section; nothing to test\n";
    return kExitConfig;
  }
  // A sample lead, told by a rule named notify-test to --to or to every address the rules name.
  notify::NotifyRule rule;
  rule.name = "notify-test";
  if (!to.empty()) {
    std::string name;
    std::string address;
    if (!connectors::notify::parse_mailbox(to, name, address)) return usage("--to: '" + to + "' is not a mail address");
    rule.to.push_back(address);
  } else {
    std::set<std::string> all;
    for (const auto& r : n.rules) all.insert(r.to.begin(), r.to.end());
    rule.to.assign(all.begin(), all.end());
  }
  const auto now = log::now_unix_ms();
  const auto document = notify::lead_document(n, rule, notify::sample_lead(now), now);
  const auto key = "new_lead|notify-test|" + std::to_string(now);
  connectors::DeliveryItem item;
  item.key = key;
  item.lead_json = document;
  bool ok = true;
  const auto report = [&](const std::string& channel, const connectors::DeliveryResult& r) {
    std::cout << channel << ": " << status_name(r.status) << (r.message.empty() ? "" : ": " + r.message) << "\n";
    ok = ok && r.status == connectors::DeliveryResult::Status::Ok;
  };
  if (n.email.configured) {
    if (rule.to.empty()) {
      std::cout << "email (" << n.email.url << "): skipped: no rule names an address; give --to ADDR\n";
    } else {
      connectors::notify::SmtpSink smtp(n.email, n.templates);
      std::string line = "email (" + n.email.url + ") to ";
      for (std::size_t i = 0; i < rule.to.size(); ++i) line += (i ? ", " : "") + rule.to[i];
      report(line, smtp.deliver(item));
    }
  }
  for (const auto& channel : n.channels) {
    connectors::notify::ChatSink chat(channel, n.templates);
    report(channel.type + " channel " + channel.name, chat.deliver(item));
  }
  if (!n.email.configured && n.channels.empty()) {
    std::cout << "no channel is configured (notifications.email, notifications.channels)\n";
  }
  return ok ? kExitOk : kExitUnavailable;
}

}  // namespace leadrelay::app
