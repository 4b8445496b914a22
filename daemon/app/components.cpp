// The daemon's components (component.hpp), each the wiring of one part: what it creates, in which order it needs
// the others, what a reload changes, and how it stops.
#include "daemon/app/component.hpp"

#include "daemon/util/asio.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <systemd/sd-daemon.h>

#include <csignal>

#include "connectors/kafka/kafka_producer.hpp"
#include "connectors/kafka/mock_cluster.hpp"
#include "connectors/pc_referral/pc_referral_format.hpp"
#include "connectors/pc_referral/pc_sink.hpp"
#include "daemon/referrals/referral_worker.hpp"
#include "connectors/crm/crm_config.hpp"
#include "connectors/notify/chat_sink.hpp"
#include "connectors/notify/smtp_sink.hpp"
#include "daemon/notify/notify_worker.hpp"
#include "daemon/audit/audit_log.hpp"
#include "connectors/sinks/sink_factory.hpp"
#include "daemon/app/run.hpp"
#include "daemon/app/services.hpp"
#include "daemon/api/access.hpp"
#include "daemon/api/leads_api.hpp"
#include "daemon/console/console.hpp"
#include "daemon/api/responses.hpp"
#include "daemon/http/admin_server.hpp"
#include "daemon/leads/changes.hpp"
#include "daemon/leads/expiry_worker.hpp"
#include "daemon/leads/retention.hpp"
#include "daemon/http/server.hpp"
#include "daemon/intake/intake.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/outbox/dead_letters.hpp"
#include "daemon/outbox/delivery_worker.hpp"
#include "daemon/outbox/kafka_worker.hpp"
#include "daemon/outbox/pipeline_worker.hpp"
#include "daemon/store/intake_log.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"
#include "daemon/util/strings.hpp"
#include "daemon/util/thread.hpp"
#include "daemon/validate/ares_resolver.hpp"

namespace leadrelay::app {
namespace asio = boost::asio;

Services::Services(const Config& initial)
    : config(initial), io(std::make_unique<asio::io_context>(initial.server.io_threads)) {}
Services::~Services() = default;

void Services::notify_delivery() const {
  if (kafka) kafka->notify();
  for (const auto& s : sinks) s->notify();
  if (auto* r = referrals_running.load()) r->notify();
}

std::string Services::status_json() {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  std::lock_guard lock(reload.mutex);
  w.StartObject();
  w.Key("version");
  w.String(LEADRELAY_VERSION);
  w.Key("config_file");
  w.String(config.file.string().c_str());
  w.Key("config_hash");
  w.String(reload.config_hash.c_str());
  w.Key("started_at");
  w.String(log::format_utc_ms(started_ms).c_str());
  w.Key("last_reload");
  w.StartObject();
  w.Key("at");
  w.String(log::format_utc_ms(reload.at_ms).c_str());
  w.Key("ok");
  w.Bool(reload.ok);
  w.Key("errors");
  w.StartArray();
  for (const auto& e : reload.errors) w.String(e.c_str());
  w.EndArray();
  w.Key("restart_needed");
  w.StartArray();
  for (const auto& e : reload.restart_needed) w.String(e.c_str());
  w.EndArray();
  w.EndObject();
  w.Key("uptime_seconds");
  w.Int64((log::now_unix_ms() - started_ms) / 1000);
  w.Key("backlog");
  w.StartObject();
  w.Key("leads_in_intake_log");  // acknowledged, not yet moved into the store
  w.Int64(intake_log ? static_cast<std::int64_t>(intake_log->stats().in_log) : 0);
  w.Key("leads_to_route");
  w.Int64(pipeline ? pipeline->leads_to_route() : 0);
  w.Key("deliveries");
  w.Int64(backlog->count());
  w.Key("bytes");
  w.Int64(backlog->bytes());
  w.Key("by_destination");  // from the store
  w.StartObject();
  std::string problem;
  if (auto store = store::Reader::open(config.state_dir, problem)) {
    for (const auto& d : store->backlog_by_destination()) {
      w.Key(d.destination.c_str());
      w.StartObject();
      w.Key("deliveries");
      w.Int64(d.deliveries);
      w.Key("bytes");
      w.Int64(d.bytes);
      w.EndObject();
    }
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

namespace {

// The journal (every lead durable before it is answered) and the outbox's backlog, counted from the store.
class StoreComponent final : public Component {
 public:
  std::string_view name() const override { return "store"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    bool too_new = false;
    s.journal = store::Journal::open(s.config.state_dir, s.config.journal, error, &too_new);
    if (!s.journal) {
      log::error("store_open_failed",
                 {{"message", error},
                  {"hint", too_new ? "this store was written by a newer leadrelay: run that version, or restore a "
                                     "backup"
                                   : "check that state_dir is writable by this user"}});
      exit_code = kExitCantCreate;
      return false;
    }
    s.backlog = std::make_unique<outbox::Backlog>(s.config.outbox);
    util::set_background_priority(s.config.outbox.background_nice, s.config.outbox.background_idle);
    s.intake_log = store::IntakeLog::open(s.config.state_dir, s.config.journal, *s.journal, error);
    if (!s.intake_log) {
      log::error("store_open_failed", {{"message", error}});
      exit_code = kExitCantCreate;
      return false;
    }
    return true;
  }
  void stop(Services& s) override {
    // A clean stop moves what the log holds into the store, for a while; what is left waits there for the next start.
    s.intake_log->stop(std::chrono::seconds(10));
    const auto log_stats = s.intake_log->stats();
    s.journal->stop();
    const auto stats = s.journal->stats();
    log::info("stopped", {{"leads_stored", stats.entries}, {"commits", stats.commits},
                          {"leads_logged", log_stats.appended},
                          {"intake_log_writes", log_stats.writes}, {"leads_left_in_intake_log", log_stats.in_log},
                          {"deliveries_pending", s.backlog->count()}});
  }
};

// The Kafka producer's worker, with a mock cluster in-process for `brokers: embedded`.
class KafkaComponent final : public Component {
 public:
  std::string_view name() const override { return "kafka"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    if (!s.config.kafka.configured) return true;
    std::string bootstrap = s.config.kafka.brokers;
    if (s.config.kafka.embedded) {
      s.embedded_kafka = connectors::kafka::MockCluster::create(3, error);
      if (!s.embedded_kafka) {
        log::error("kafka_start_failed", {{"message", error}});
        exit_code = kExitUnavailable;
        return false;
      }
      bootstrap = s.embedded_kafka->bootstrap();
      log::info("kafka_embedded", {log::safe("bootstrap", bootstrap),
                                   {"hint", "an in-memory Kafka for local runs; read it with: kcat -C -b " +
                                                bootstrap + " -t <topic>"}});
    }
    s.kafka = std::make_unique<outbox::KafkaWorker>(
        std::make_unique<connectors::kafka::KafkaProducer>(s.config.kafka, bootstrap), *s.journal, s.config.state_dir,
        *s.backlog);
    if (!s.kafka->start(error)) {
      log::error("kafka_start_failed", {{"message", error}});
      exit_code = kExitConfig;
      return false;
    }
    return true;
  }
  // Let Kafka acknowledge what is in flight (the pipeline, stopped before, adds nothing more).
  void stop(Services& s) override {
    if (s.kafka) s.kafka->stop(s.config.server.shutdown_grace);
  }
};

// Contact validation's DNS lookups (c-ares on its own loop), unless switched off.
class ResolverComponent final : public Component {
 public:
  std::string_view name() const override { return "dns"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    if (s.config.validation.dns.enabled) {
      s.resolver = validate::AresResolver::create(s.config.validation.dns, error);
      if (!s.resolver) {
        log::error("dns_start_failed", {{"message", error},
                                        {"hint", "set validation.dns.servers, or validation.dns.enabled: false"}});
        exit_code = kExitConfig;
        return false;
      }
    }
    log::info("validation", {{"disposable_domains", static_cast<std::int64_t>(s.config.validator->disposable_count())},
                             {"dns", s.config.validation.dns.enabled}});
    return true;
  }
};

// One delivery worker per sink (CRM, webhook, file), each on its own thread.
class SinksComponent final : public Component {
 public:
  std::string_view name() const override { return "sinks"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    const auto& pc = s.config.partner_center;
    if (pc.configured) {
      s.partner_center_tokens = std::make_shared<connectors::pc_referral::TokenSource>(pc);
      if (pc.write_back) {
        // Referral changes made in leadrelay go back to Partner Center through the outbox, as to any sink.
        connectors::SinkConfig writer;
        writer.name = std::string(connectors::pc_referral::kWriteBackSink);
        writer.type = "partner-center";
        writer.retry = pc.retry;
        s.sinks.push_back(std::make_unique<outbox::DeliveryWorker>(
            *s.journal, s.config.state_dir, *s.backlog, writer,
            std::make_unique<connectors::pc_referral::PartnerCenterSink>(pc, s.partner_center_tokens)));
        if (!s.sinks.back()->start(error)) {
          log::error("store_open_failed", {{"message", error}});
          exit_code = kExitCantCreate;
          return false;
        }
      }
    }
    for (const auto& sink : s.config.sinks) {
      s.sinks.push_back(std::make_unique<outbox::DeliveryWorker>(*s.journal, s.config.state_dir, *s.backlog, sink,
                                                                 connectors::create_sink(sink)));
      if (!s.sinks.back()->start(error)) {
        log::error("store_open_failed", {{"message", error}});
        exit_code = kExitCantCreate;
        return false;
      }
    }
    // Notifications leave through the outbox like leads: one worker for the mail server, one per channel.
    const auto& n = s.config.notifications;
    if (n.configured) {
      const auto add = [&](const std::string& destination, const std::string& type,
                           std::unique_ptr<connectors::Sink> sender) {
        connectors::SinkConfig c;
        c.name = destination;
        c.type = type;
        c.retry = n.retry;
        s.sinks.push_back(std::make_unique<outbox::DeliveryWorker>(*s.journal, s.config.state_dir, *s.backlog, c,
                                                                   std::move(sender), destination));
        return s.sinks.back()->start(error);
      };
      bool ok = !n.email.configured ||
                add(std::string(connectors::notify::kEmailDestination), "smtp",
                    std::make_unique<connectors::notify::SmtpSink>(n.email, n.templates));
      for (const auto& channel : n.channels) {
        ok = ok && add(channel.destination(), channel.type,
                       std::make_unique<connectors::notify::ChatSink>(channel, n.templates));
      }
      if (!ok) {
        log::error("store_open_failed", {{"message", error}});
        exit_code = kExitCantCreate;
        return false;
      }
    }
    return true;
  }
  void stop(Services& s) override {
    for (auto& sink : s.sinks) sink->stop();
  }
};

// The pipeline worker: routes each journaled lead into the outbox and wakes the destinations.
class PipelineComponent final : public Component {
 public:
  std::string_view name() const override { return "pipeline"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    s.pipeline = std::make_unique<outbox::PipelineWorker>(
        *s.journal, s.config.state_dir, *s.backlog, s.config.routes, s.config.dedup, [&s] { s.notify_delivery(); },
        s.config.validator, s.resolver.get());
    if (s.config.notifications.configured) {
      s.pipeline->set_notifications(std::make_shared<const notify::NotifyConfig>(s.config.notifications));
    }
    if (!s.pipeline->start(error)) {
      log::error("store_open_failed", {{"message", error}});
      exit_code = kExitCantCreate;
      return false;
    }
    s.backlog->set_routing_lag([p = s.pipeline.get()] { return p->leads_to_route(); });
    if (s.config.routes->rules.empty()) {
      log::warn("no_routes", {{"hint", "leads are stored but delivered nowhere; add 'routes:' to the config"}});
    }
    return true;
  }
  void reload(Services& s, const Config& loaded) override {
    s.pipeline->set_routes(loaded.routes);
    s.pipeline->set_validator(loaded.validator);
    s.pipeline->set_notifications(
        loaded.notifications.configured ? std::make_shared<const notify::NotifyConfig>(loaded.notifications) : nullptr);
  }
  // Route what was journaled before intake stopped.
  void stop(Services& s) override { s.pipeline->stop(); }
};

std::string_view auth_name(intake::AuthType type) {
  switch (type) {
    case intake::AuthType::QuerySecret: return "query_secret";
    case intake::AuthType::Bearer: return "bearer";
    case intake::AuthType::Hmac: return "hmac";
    case intake::AuthType::PartnerCenter: return "partner_center";
    case intake::AuthType::None: return "none";
  }
  return "?";
}

// The intake listener: sources, TLS, and the answer only once a lead is stored.
class IntakeComponent final : public Component {
 public:
  std::string_view name() const override { return "intake"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    s.server = std::make_unique<http::Server>(s.ioc(), s.config.server,
                                              std::make_shared<const intake::Intake>(s.config.sources), *s.intake_log,
                                              s.backlog.get());
    s.server->set_status([&s] { return s.status_json(); });
    if (!s.server->reload_tls(error)) {
      log::error("tls_failed", {{"message", error}, {"hint", "check server.tls_cert_file and server.tls_key_file"}});
      exit_code = kExitConfig;
      return false;
    }
    if (!s.server->listen(error)) {
      log::error("listen_failed", {{"message", error}});
      exit_code = kExitUnavailable;
      return false;
    }
    log::info("starting", {log::safe("version", LEADRELAY_VERSION), log::safe("config", s.config.file.string()),
                           log::safe("state_dir", s.config.state_dir.string()),
                           {"io_threads", s.config.server.io_threads},
                           {"max_body_bytes", s.config.server.max_body_bytes},
                           {"sources", static_cast<std::int64_t>(s.config.sources.size())}});
    for (const auto& source : s.config.sources) {
      log::info("source", {log::safe("name", source.name), log::safe("path", source.path),
                           log::safe("format", source.format), log::safe("auth", auth_name(source.auth.type)),
                           {"secrets", static_cast<std::int64_t>(source.auth.secrets.size())}});
      if (source.auth.type == intake::AuthType::None) {
        log::warn("source_unauthenticated",
                  {log::safe("name", source.name), {"hint", "anyone who can reach this path can post leads"}});
      }
    }
    return true;
  }
  void reload(Services& s, const Config& loaded) override {
    s.server->set_intake(std::make_shared<const intake::Intake>(loaded.sources));
    std::string tls_error;
    if (!s.server->reload_tls(tls_error)) {
      log::error("tls_reload_failed", {{"message", tls_error}, {"hint", "the previous certificate stays in use"}});
    } else if (!s.config.server.tls_cert_file.empty()) {
      log::info("tls_reloaded", {log::safe("certificate", s.config.server.tls_cert_file)});
    }
  }
};

// Lead lifecycles: the change service (shared by the leads API and the expiry worker) and the worker that
// expires unanswered leads, at start and at each deadline.
class LifecycleComponent final : public Component {
 public:
  std::string_view name() const override { return "lifecycle"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    s.pipeline->set_lifecycle(s.config.lifecycle.windows);
    s.changes = std::make_unique<leads::Changes>(*s.journal, *s.backlog, destinations(s.config),
                                                 [&s] { s.notify_delivery(); });
    s.expiry = std::make_unique<leads::ExpiryWorker>(*s.changes, s.config.state_dir,
                                                     s.config.lifecycle.windows.response_window);
    if (!s.expiry->start(error)) {
      log::error("store_open_failed", {{"message", error}});
      exit_code = kExitCantCreate;
      return false;
    }
    s.retention = std::make_unique<leads::RetentionWorker>(*s.journal, *s.backlog, s.config.state_dir,
                                                           s.config.retention);
    if (!s.retention->start(error)) {
      log::error("store_open_failed", {{"message", error}});
      exit_code = kExitCantCreate;
      return false;
    }
    return true;
  }
  void reload(Services& s, const Config& loaded) override {
    s.pipeline->set_lifecycle(loaded.lifecycle.windows);
    auto running = s.config;
    running.lifecycle = loaded.lifecycle;
    s.changes->set_destinations(destinations(running));
    s.retention->set_config(loaded.retention);
  }
  void stop(Services& s) override {
    if (s.retention) s.retention->stop();
    if (s.expiry) s.expiry->stop();
  }

 private:
  // Where a change goes: the events topic (with Kafka), and the CRM sinks that have the lead.
  static leads::ChangeDestinations destinations(const Config& c) {
    leads::ChangeDestinations d;
    if (c.kafka.configured) d.events = "kafka:" + c.lifecycle.events_topic;
    if (c.partner_center.configured && c.partner_center.write_back) {
      d.partner_center = "sink:" + std::string(connectors::pc_referral::kWriteBackSink);
    }
    for (const auto& sink : c.sinks) {
      for (const auto& t : connectors::sink_types()) {
        if (t.type == sink.type && t.takes_events) d.crm_sinks.insert("sink:" + sink.name);
      }
      if (sink.type == "hubspot" && sink.get<connectors::crm::CrmOptions>().key_field == "email") {
        d.email_keyed_sinks.insert("sink:" + sink.name);
      }
    }
    return d;
  }
};

// Notifications that do not go out as a lead arrives: digests at digest_at, warnings before a lead expires.
class NotificationsComponent final : public Component {
 public:
  std::string_view name() const override { return "notifications"; }
  bool start(Services& s, int& exit_code) override {
    if (!s.config.notifications.configured) return true;
    s.notifications = std::make_unique<notify::NotifyWorker>(
        *s.journal, s.config.state_dir, std::make_shared<const notify::NotifyConfig>(s.config.notifications),
        [&s](const store::DeliveryTotals& added) {
          s.backlog->add(added.count, added.bytes);
          s.notify_delivery();
        });
    std::string error;
    if (!s.notifications->start(error)) {
      log::error("store_open_failed", {{"message", error}});
      exit_code = kExitCantCreate;
      return false;
    }
    const auto& n = s.config.notifications;
    log::info("notifications", {log::safe("timezone", n.timezone), {"rules", static_cast<std::int64_t>(n.rules.size())},
                                {"email", n.email.configured},
                                {"channels", static_cast<std::int64_t>(n.channels.size())}});
    return true;
  }
  void reload(Services& s, const Config& loaded) override {
    if (s.notifications && loaded.notifications.configured) {
      s.notifications->set_config(std::make_shared<const notify::NotifyConfig>(loaded.notifications));
    }
  }
  void stop(Services& s) override {
    if (s.notifications) s.notifications->stop();
  }
};

// Partner Center referrals: the worker that fetches what webhook events name, polls for what they missed, and
// applies Partner Center's statuses to the leads.
class ReferralsComponent final : public Component {
 public:
  std::string_view name() const override { return "referrals"; }
  bool start(Services& s, int& exit_code) override {
    const auto& pc = s.config.partner_center;
    if (!pc.configured) return true;
    std::string poll_source;
    for (const auto& source : s.config.sources) {
      if (source.format == connectors::pc_referral::kFormatName && poll_source.empty()) poll_source = source.name;
    }
    if (poll_source.empty()) poll_source = "partner-center";
    s.referrals = std::make_unique<referrals::ReferralWorker>(*s.journal, s.config.state_dir, *s.backlog, *s.changes,
                                                              pc, s.partner_center_tokens, poll_source);
    std::string error;
    if (!s.referrals->start(error)) {
      log::error("store_open_failed", {{"message", error}});
      exit_code = kExitCantCreate;
      return false;
    }
    s.referrals_running = s.referrals.get();
    return true;
  }
  void stop(Services& s) override {
    s.referrals_running = nullptr;
    if (s.referrals) s.referrals->stop();
  }
};

// The admin listener's /dlq paths: list, show and replay dead letters. Showing one reveals its lead (contact data)
// and replaying changes the outbox: both go to the audit trail with the operator's token name.
http::AdminResponse dead_letters(Services& s, const http::AdminRequest& req, const std::string& actor) {
  const auto audited = [&](http::AdminResponse answer, std::string action, std::vector<std::string> lead_ids,
                           std::int64_t count, std::string detail) {
    std::string problem;
    if (!s.audit->append({actor, std::move(action), std::move(lead_ids), count, std::move(detail), true}, problem)) {
      log::error("audit_write_failed", {{"message", problem}});
      return api::error(503, "audit_unavailable", "the audit trail cannot be written: " + problem);
    }
    return answer;
  };
  store::DeadLetterFilter filter;
  for (std::string_view rest = req.query; !rest.empty();) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string() : util::url_decode(pair.substr(eq + 1));
    unsigned long long id = 0;
    if (key == "sink") filter.sink = value;
    if (key == "id" && !util::parse_u64(value, id)) return api::error(400, "bad_id", "id must be a number", "id");
    if (key == "id") filter.id = static_cast<std::int64_t>(id);
  }
  const auto& path = req.path;
  if (req.method == "POST" && path == "/dlq/replay") {
    std::string problem;
    const auto count = outbox::replay_dead_letters(*s.journal, *s.backlog, filter, problem);
    if (count < 0) return api::error(503, "store_unavailable", problem);
    s.notify_delivery();
    log::info("dlq_replayed", {{"deliveries", count}, log::safe("sink", filter.sink)});
    return audited(api::json(200, R"({"replayed":)" + std::to_string(count) + "}"), "dlq-replay", {}, count,
                   "sink=" + filter.sink + (filter.id > 0 ? " id=" + std::to_string(filter.id) : std::string()));
  }
  if (req.method != "GET") return api::error(405, "method_not_allowed", "POST /dlq/replay; GET the rest");
  std::string problem;
  auto store = store::Reader::open(s.config.state_dir, problem);
  if (!store) return api::error(503, "store_unavailable", "cannot read the store");
  if (path == "/dlq") {
    // Dead letters carry the destination's words, which may quote the lead's address: a read of contact data.
    std::vector<std::string> ids;
    for (const auto& letter : store->dead_letters(filter)) ids.push_back(letter.lead_id);
    const auto count = static_cast<std::int64_t>(ids.size());
    return audited(api::json(200, outbox::dead_letters_json(*store, filter)), "dlq-list", std::move(ids), count,
                   filter.sink.empty() ? std::string() : "sink=" + filter.sink);
  }
  unsigned long long id = 0;
  auto body = util::parse_u64(std::string_view(path).substr(5), id)
                  ? outbox::dead_letter_json(*store, static_cast<std::int64_t>(id))
                  : std::string();
  if (body.empty()) return api::error(404, "not_found", "no dead letter with that id");
  const auto letter = store->dead_letter(static_cast<std::int64_t>(id));
  return audited(api::json(200, std::move(body)), "dlq-show", {letter ? letter->lead_id : std::string()}, 1,
                 "delivery " + std::to_string(id));
}

// The admin listener: /metrics, /healthz and /readyz for anyone who can reach it; /status and /dlq for operators;
// the leads API for viewers and referral admins (api::Access decides).
class AdminComponent final : public Component {
 public:
  std::string_view name() const override { return "admin"; }
  bool start(Services& s, int& exit_code) override {
    std::string error;
    auto& metrics = metrics::Metrics::get();
    metrics.reload(true, s.reload.config_hash, static_cast<double>(s.started_ms) / 1000.0);
    s.access = std::make_shared<const api::Access>(s.config.admin.tokens);
    std::string audit_error;
    s.audit = audit::AuditLog::open(s.config.state_dir, audit_error);
    if (!s.audit) {
      log::error("audit_open_failed", {{"message", audit_error}, {"hint", "the service's user must be able to write state_dir"}});
      exit_code = kExitCantCreate;
      return false;
    }
    s.leads_api = std::make_unique<api::LeadsApi>(s.config.state_dir, *s.changes, s.audit.get());
    s.leads_api->set_usd_rates(s.config.insights.usd_rates);
    s.console = std::make_unique<console::Console>(!s.config.admin.tls_cert_file.empty());
    if (s.config.admin.tokens.empty()) {
      log::warn("admin_without_tokens", {{"hint", "the leads API, /status and /dlq answer 401 until admin.tokens "
                                                  "names at least one token"}});
    }
    s.admin = std::make_unique<http::AdminServer>(s.config.admin, 2, [&s, &metrics](const http::AdminRequest& req) {
      const auto& path = req.path;
      std::shared_ptr<const api::Access> access;
      {
        std::lock_guard lock(s.access_mutex);
        access = s.access;
      }
      if (api::LeadsApi::handles(path)) {
        if (!console::Console::by_session(req)) return s.leads_api->handle(req, *access);
        // The console's pages call the API with their session cookie instead of a token.
        auto request = req;
        http::AdminResponse refusal;
        if (!s.console->authorize_api(request, refusal)) return refusal;
        return s.leads_api->handle(request, *access);
      }
      if (console::Console::handles(path)) return s.console->handle(req, *access);
      if (path == "/status" || path == "/dlq" || path.rfind("/dlq/", 0) == 0) {
        http::AdminResponse refusal;
        const auto caller = access->authorize(req.authorization, api::Role::Operator, refusal);
        if (!caller) return refusal;
        if (path != "/status") return dead_letters(s, req, caller->name);
        if (req.method != "GET") return api::error(405, "method_not_allowed", "use GET");
        return api::json(200, s.status_json());
      }
      if (req.method != "GET") return api::error(405, "method_not_allowed", "use GET");
      if (path == "/metrics") {
        metrics.set_backlog(s.backlog->count(), s.backlog->bytes());
        if (s.kafka) metrics.set_kafka_queue(s.kafka->queue_length());
        http::AdminResponse r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = metrics.serialize();
        return r;
      }
      if (path == "/healthz") return api::json(200, R"({"status":"ok"})");
      if (path == "/readyz") {
        // Ready while leads can be stored: the journal accepts writes and intake is not pushing back.
        if (!s.intake_log->healthy()) {
          return api::json(503, R"({"status":"not_ready","reason":"the store or the intake log refuses writes"})");
        }
        if (s.backlog->full()) return api::json(503, R"({"status":"not_ready","reason":"the outbox backlog is full"})");
        return api::json(200, R"({"status":"ready"})");
      }
      return api::error(404, "not_found",
                        "the admin listener serves /metrics, /healthz, /readyz, /status, /dlq, /api/v1 and /console");
    });
    if (!s.admin->listen(error)) {
      log::error("listen_failed", {{"message", error}});
      exit_code = kExitUnavailable;
      return false;
    }
    return true;
  }
  void reload(Services& s, const Config& loaded) override {
    auto access = std::make_shared<const api::Access>(loaded.admin.tokens);
    s.leads_api->set_usd_rates(loaded.insights.usd_rates);
    std::lock_guard lock(s.access_mutex);
    s.access = std::move(access);
  }
};

// What the service manager sees: SIGHUP reloads, SIGTERM/SIGINT drain (a second one aborts), READY/RELOADING/
// STOPPING and watchdog pings (no-ops without NOTIFY_SOCKET). Last in the list: a supervisor may act on READY at
// once, so everything else is up by then.
class ServiceComponent final : public Component {
 public:
  std::string_view name() const override { return "service"; }
  bool start(Services& s, int&) override {
    signals_ = std::make_unique<asio::signal_set>(s.ioc(), SIGINT, SIGTERM, SIGHUP);
    watchdog_ = std::make_unique<asio::steady_timer>(s.ioc());
    wait_for_signal(s);
    s.server->start();
    s.admin->start();
    log::info("admin_listening", {log::safe("address", s.admin->bound_address())});
    for (const auto& address : s.server->bound_addresses()) log::info("listening", {log::safe("address", address)});
    sd_notify(0, "READY=1\nSTATUS=accepting leads");
    // Watchdog pings from the I/O loop, so a wedged loop gets the service restarted.
    if (sd_watchdog_enabled(0, &watchdog_usec_) > 0 && watchdog_usec_ > 0) {
      log::info("watchdog", {{"interval_ms", static_cast<std::int64_t>(watchdog_usec_ / 1000)}});
      ping({});
    }
    return true;
  }

 private:
  void ping(boost::system::error_code ec) {
    if (ec) return;
    sd_notify(0, "WATCHDOG=1");
    watchdog_->expires_after(std::chrono::microseconds(watchdog_usec_ / 2));
    watchdog_->async_wait([this](boost::system::error_code e) { ping(e); });
  }

  void wait_for_signal(Services& s) {
    signals_->async_wait([this, &s](boost::system::error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        if (!draining_) {
          sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                     static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                         std::chrono::steady_clock::now().time_since_epoch())
                                                         .count()));
          s.reload_all();
          sd_notify(0, "READY=1");
        }
      } else if (!draining_) {
        draining_ = true;
        sd_notify(0, "STOPPING=1");
        watchdog_->cancel();
        s.admin->stop();
        log::info("draining",
                  {{"signal", signo}, {"grace_ms", static_cast<std::int64_t>(s.config.server.shutdown_grace.count())}});
        s.server->drain([this, &s] {
          log::info("drained");
          signals_->cancel();
          s.stop_io();
        });
      } else {
        log::warn("aborting", {{"signal", signo}, {"hint", "second signal: closing connections now"}});
        s.server->abort();
      }
      wait_for_signal(s);
    });
  }

  std::unique_ptr<asio::signal_set> signals_;
  std::unique_ptr<asio::steady_timer> watchdog_;
  std::uint64_t watchdog_usec_ = 0;
  bool draining_ = false;
};

}  // namespace

std::vector<std::unique_ptr<Component>> daemon_components() {
  std::vector<std::unique_ptr<Component>> list;
  list.push_back(std::make_unique<StoreComponent>());
  list.push_back(std::make_unique<KafkaComponent>());
  list.push_back(std::make_unique<ResolverComponent>());
  list.push_back(std::make_unique<SinksComponent>());
  list.push_back(std::make_unique<PipelineComponent>());
  list.push_back(std::make_unique<LifecycleComponent>());
  list.push_back(std::make_unique<ReferralsComponent>());
  list.push_back(std::make_unique<NotificationsComponent>());
  list.push_back(std::make_unique<IntakeComponent>());
  list.push_back(std::make_unique<AdminComponent>());
  list.push_back(std::make_unique<ServiceComponent>());
  return list;
}

}  // namespace leadrelay::app
