#pragma once
// What the daemon's components share while it runs: each creates its own part here at start, later ones find the
// earlier ones' (the pipeline finds the store and the destinations it notifies). Owned by run_daemon.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/app/config.hpp"

namespace boost::asio {
class io_context;
}
namespace leadrelay::http {
class AdminServer;
class Server;
}  // namespace leadrelay::http
namespace leadrelay::outbox {
class Backlog;
class DeliveryWorker;
class KafkaWorker;
class PipelineWorker;
}  // namespace leadrelay::outbox
namespace leadrelay::connectors::kafka {
class MockCluster;
}
namespace leadrelay::store {
class Journal;
class IntakeLog;
}
namespace leadrelay::console {
class Console;
}
namespace leadrelay::validate {
class AresResolver;
}
namespace leadrelay::leads {
class Changes;
class ExpiryWorker;
class RetentionWorker;
}  // namespace leadrelay::leads
namespace leadrelay::referrals {
class ReferralWorker;
}
namespace leadrelay::notify {
class NotifyWorker;
}
namespace leadrelay::audit {
class AuditLog;
}
namespace leadrelay::connectors::pc_referral {
class TokenSource;
}
namespace leadrelay::api {
class Access;
class LeadsApi;
}  // namespace leadrelay::api

namespace leadrelay::app {

// The outcome of the last reload, for /status and logs.
struct ReloadState {
  std::mutex mutex;
  std::string config_hash;
  std::int64_t at_ms = 0;
  bool ok = true;
  std::vector<std::string> errors;
  std::vector<std::string> restart_needed;
};

struct Services {
  explicit Services(const Config& initial);
  ~Services();

  Config config;  // the running configuration; a reload replaces the parts it can
  std::int64_t started_ms = 0;
  ReloadState reload;

  // Declared in the order they must outlive each other: the I/O loop (with the coroutines that use the journal)
  // goes after the listeners and before everything the coroutines and workers use.
  std::unique_ptr<store::Journal> journal;
  std::unique_ptr<store::IntakeLog> intake_log;  // in front of the journal: where intake's leads are made durable
  std::unique_ptr<outbox::Backlog> backlog;
  std::unique_ptr<connectors::kafka::MockCluster> embedded_kafka;
  std::unique_ptr<outbox::KafkaWorker> kafka;
  std::unique_ptr<validate::AresResolver> resolver;
  std::vector<std::unique_ptr<outbox::DeliveryWorker>> sinks;
  std::unique_ptr<outbox::PipelineWorker> pipeline;
  std::unique_ptr<leads::Changes> changes;
  std::unique_ptr<leads::ExpiryWorker> expiry;
  std::unique_ptr<leads::RetentionWorker> retention;
  std::shared_ptr<connectors::pc_referral::TokenSource> partner_center_tokens;  // fetches and write-backs share it
  std::unique_ptr<referrals::ReferralWorker> referrals;
  std::unique_ptr<notify::NotifyWorker> notifications;
  std::atomic<referrals::ReferralWorker*> referrals_running{nullptr};  // for notify_delivery, once started
  std::unique_ptr<audit::AuditLog> audit;  // the audit trail (state_dir/audit.log); before the API that writes it
  std::unique_ptr<api::LeadsApi> leads_api;
  std::unique_ptr<console::Console> console;  // the web console's pages and sessions
  std::mutex access_mutex;
  std::shared_ptr<const api::Access> access;  // swapped whole by a reload (under access_mutex)
  std::unique_ptr<boost::asio::io_context> io;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::AdminServer> admin;

  boost::asio::io_context& ioc() { return *io; }
  // Wakes every destination: new deliveries may be waiting.
  void notify_delivery() const;
  // /status as JSON.
  std::string status_json();
  // Set by run_daemon: a SIGHUP's reload of every component, and the end of the I/O loop once intake drained.
  std::function<void()> reload_all;
  std::function<void()> stop_io;
};

}  // namespace leadrelay::app
