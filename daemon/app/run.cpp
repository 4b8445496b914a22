#include "daemon/app/run.hpp"

#include "daemon/util/asio.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <systemd/sd-daemon.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <malloc.h>

#include "connectors/kafka/kafka_producer.hpp"
#include "connectors/kafka/mock_cluster.hpp"
#include "daemon/http/admin_server.hpp"
#include "daemon/http/server.hpp"
#include "daemon/intake/intake.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "connectors/sinks/sink_factory.hpp"
#include "daemon/outbox/dead_letters.hpp"
#include "daemon/outbox/delivery_worker.hpp"
#include "daemon/outbox/kafka_worker.hpp"
#include "daemon/outbox/pipeline_worker.hpp"
#include "daemon/util/strings.hpp"
#include "daemon/util/digest.hpp"
#include "daemon/util/thread.hpp"
#include "daemon/validate/ares_resolver.hpp"

namespace leadrelay::app {
namespace asio = boost::asio;

namespace {

// What a reload cannot apply while running: these sections take effect at the next start.
std::vector<std::string> needs_restart(const app::Config& running, const app::Config& loaded) {
  std::vector<std::string> out;
  if (!(running.server == loaded.server)) out.emplace_back("server");
  if (!(running.admin == loaded.admin)) out.emplace_back("admin");
  if (running.state_dir != loaded.state_dir) out.emplace_back("state_dir");
  if (!(running.journal == loaded.journal)) out.emplace_back("journal");
  if (!(running.kafka == loaded.kafka)) out.emplace_back("kafka");
  if (!(running.outbox == loaded.outbox)) out.emplace_back("outbox");
  if (!(running.dedup == loaded.dedup)) out.emplace_back("dedup");
  if (!(running.validation.dns == loaded.validation.dns)) out.emplace_back("validation.dns");
  if (!(running.sinks == loaded.sinks)) out.emplace_back("sinks");
  return out;
}

std::string file_hash(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return util::sha256_hex(text.str()).substr(0, 16);
}

// The outcome of the last reload, for /status and logs.
struct ReloadState {
  std::mutex mutex;
  std::string config_hash;
  std::int64_t at_ms = 0;
  bool ok = true;
  std::vector<std::string> errors;
  std::vector<std::string> restart_needed;
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
}  // namespace

int run_daemon(const app::Config& initial) {
  app::Config config = initial;  // the running configuration; a reload replaces the parts it can
  log::set_level(config.logging.level);
  std::signal(SIGPIPE, SIG_IGN);
  // Each thread's malloc arena grows and shrinks by a few pages at a time as request bodies come and go, one
  // mprotect(2) each (a third of one per request under load). Growing by 16 MiB and keeping up to 64 MiB free at
  // the top makes that rare, for a bounded cost in resident memory.
  mallopt(M_TOP_PAD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  if (const char* offset = std::getenv("LEADRELAY_CLOCK_OFFSET"); offset != nullptr && *offset != '\0') {
    // A test hook: moves the daemon's wall clock forward so that replay and person windows can be seen to expire.
    std::chrono::milliseconds ms{0};
    std::string problem;
    if (!config::parse_duration(offset, ms, problem)) {
      log::error("clock_offset_invalid", {{"message", problem}});
      return kExitConfig;
    }
    log::set_clock_offset_ms(ms.count());
    log::warn("clock_offset", {{"offset_ms", static_cast<std::int64_t>(ms.count())},
                               {"hint", "LEADRELAY_CLOCK_OFFSET is for tests only; unset it in production"}});
  }

  std::string error;
  // Declared before the io_context: coroutines reference them, so they must outlive it.
  bool too_new = false;
  auto journal = store::Journal::open(config.state_dir, config.journal, error, &too_new);
  if (!journal) {
    log::error("store_open_failed",
               {{"message", error},
                {"hint", too_new ? "this store was written by a newer leadrelay: run that version, or restore a backup"
                                 : "check that state_dir is writable by this user"}});
    return kExitCantCreate;
  }
  auto intake = std::make_shared<const intake::Intake>(config.sources);

  // Delivery: the outbox's backlog, the Kafka producer (with a mock cluster in-process for `brokers: embedded`),
  // and the pipeline worker that routes each journaled lead into the outbox.
  outbox::Backlog backlog(config.outbox);
  util::set_background_nice(config.outbox.background_nice);
  std::unique_ptr<connectors::kafka::MockCluster> embedded;
  std::unique_ptr<outbox::KafkaWorker> kafka;
  if (config.kafka.configured) {
    std::string bootstrap = config.kafka.brokers;
    if (config.kafka.embedded) {
      embedded = connectors::kafka::MockCluster::create(3, error);
      if (!embedded) {
        log::error("kafka_start_failed", {{"message", error}});
        return kExitUnavailable;
      }
      bootstrap = embedded->bootstrap();
      log::info("kafka_embedded", {log::safe("bootstrap", bootstrap),
                                   {"hint", "an in-memory Kafka for local runs; read it with: kcat -C -b " + bootstrap +
                                                " -t <topic>"}});
    }
    kafka = std::make_unique<outbox::KafkaWorker>(
        std::make_unique<connectors::kafka::KafkaProducer>(config.kafka, bootstrap), *journal, config.state_dir,
        backlog);
    if (!kafka->start(error)) {
      log::error("kafka_start_failed", {{"message", error}});
      return kExitConfig;
    }
  }
  // Contact validation's DNS lookups (c-ares on its own loop), unless switched off.
  std::unique_ptr<validate::AresResolver> resolver;
  if (config.validation.dns.enabled) {
    resolver = validate::AresResolver::create(config.validation.dns, error);
    if (!resolver) {
      log::error("dns_start_failed", {{"message", error},
                                      {"hint", "set validation.dns.servers, or validation.dns.enabled: false"}});
      return kExitConfig;
    }
  }
  log::info("validation", {{"disposable_domains", static_cast<std::int64_t>(config.validator->disposable_count())},
                           {"dns", config.validation.dns.enabled}});
  // One delivery worker per sink (CRM, webhook, file), each on its own thread.
  std::vector<std::unique_ptr<outbox::DeliveryWorker>> sinks;
  for (const auto& s : config.sinks) {
    sinks.push_back(std::make_unique<outbox::DeliveryWorker>(*journal, config.state_dir, backlog, s,
                                                             connectors::create_sink(s)));
    if (!sinks.back()->start(error)) {
      log::error("store_open_failed", {{"message", error}});
      return kExitCantCreate;
    }
  }
  const auto notify_delivery = [&kafka, &sinks] {
    if (kafka) kafka->notify();
    for (auto& s : sinks) s->notify();
  };
  outbox::PipelineWorker pipeline(*journal, config.state_dir, backlog, config.routes,
                                  config.dedup, notify_delivery, config.validator, resolver.get());
  if (!pipeline.start(error)) {
    log::error("store_open_failed", {{"message", error}});
    return kExitCantCreate;
  }
  backlog.set_routing_lag([&pipeline] { return pipeline.leads_to_route(); });

  asio::io_context ioc(config.server.io_threads);
  auto work = asio::make_work_guard(ioc);
  asio::steady_timer watchdog(ioc);  // systemd watchdog pings, armed once the daemon is ready
  std::uint64_t watchdog_usec = 0;
  http::Server server(ioc, config.server, intake, *journal, &backlog);
  const auto started_ms = log::now_unix_ms();
  ReloadState reload;
  reload.config_hash = file_hash(config.file);
  reload.at_ms = started_ms;
  const std::function<std::string()> status_json = [&] {
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
    w.Key("leads_to_route");
    w.Int64(pipeline.leads_to_route());
    w.Key("deliveries");
    w.Int64(backlog.count());
    w.Key("bytes");
    w.Int64(backlog.bytes());
    // Per destination, from the store (the pending-deliveries index keeps this cheap).
    w.Key("by_destination");
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
  };
  server.set_status(status_json);
  auto& metrics = metrics::Metrics::get();
  metrics.reload(true, reload.config_hash, static_cast<double>(started_ms) / 1000.0);
  const auto dead_letters = [&](std::string_view method, std::string_view target) -> std::pair<int, std::string> {
    const auto path = target.substr(0, target.find('?'));
    const auto query = target.find('?') == std::string_view::npos ? std::string_view{} : target.substr(target.find('?') + 1);
    store::DeadLetterFilter filter;
    for (std::string_view rest = query; !rest.empty();) {
      const auto amp = rest.find('&');
      const auto pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      const auto eq = pair.find('=');
      const auto name = pair.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string() : util::url_decode(pair.substr(eq + 1));
      unsigned long long id = 0;
      if (name == "sink") filter.sink = value;
      if (name == "id" && !util::parse_u64(value, id)) return {400, R"({"error":"bad_id","message":"id must be a number"})"};
      if (name == "id") filter.id = static_cast<std::int64_t>(id);
    }
    if (method == "POST" && path == "/dlq/replay") {
      std::string problem;
      const auto count = outbox::replay_dead_letters(*journal, backlog, filter, problem);
      if (count < 0) return {503, R"({"error":"store_unavailable","message":")" + problem + R"("})"};
      notify_delivery();
      log::info("dlq_replayed", {{"deliveries", count}, log::safe("sink", filter.sink)});
      return {200, R"({"replayed":)" + std::to_string(count) + "}"};
    }
    if (method != "GET") return {405, R"({"error":"method_not_allowed","message":"POST /dlq/replay; GET the rest"})"};
    std::string problem;
    auto store = store::Reader::open(config.state_dir, problem);
    if (!store) return {503, R"({"error":"store_unavailable","message":"cannot read the store"})"};
    std::pair<int, std::string> answer;
    if (path == "/dlq") {
      answer = {200, outbox::dead_letters_json(*store, filter)};
    } else {
      unsigned long long id = 0;
      auto body = util::parse_u64(path.substr(5), id) ? outbox::dead_letter_json(*store, static_cast<std::int64_t>(id))
                                                     : std::string();
      answer = body.empty() ? std::pair<int, std::string>{404, R"({"error":"not_found","message":"no dead letter with that id"})"}
                            : std::pair<int, std::string>{200, std::move(body)};
    }
    return answer;
  };
  http::AdminServer admin(ioc, config.admin, [&](std::string_view method,
                                                 std::string_view target) -> std::pair<int, std::string> {
    const auto path = target.substr(0, target.find('?'));
    if (path == "/dlq" || path.rfind("/dlq/", 0) == 0) return dead_letters(method, target);
    if (method != "GET") return {405, R"({"error":"method_not_allowed","message":"use GET"})"};
    if (path == "/metrics") {
      metrics.set_backlog(backlog.count(), backlog.bytes());
      if (kafka) metrics.set_kafka_queue(kafka->queue_length());
      return {200, metrics.serialize()};
    }
    if (path == "/status") return {200, status_json()};
    if (path == "/healthz") return {200, R"({"status":"ok"})"};
    return {404, R"({"error":"not_found","message":"the admin listener serves /metrics, /status, /healthz and /dlq"})"};
  });
  if (!admin.listen(error)) {
    log::error("listen_failed", {{"message", error}});
    return kExitUnavailable;
  }

  // SIGHUP: validate the whole file first; apply sources, routes and the log level atomically; keep everything
  // as it was when the file has an error. Listening sockets are never touched.
  const auto reload_config = [&] {
    auto result = app::load_config_file(config.file);
    const auto hash = file_hash(config.file);
    std::lock_guard lock(reload.mutex);
    reload.at_ms = log::now_unix_ms();
    reload.errors.clear();
    reload.restart_needed.clear();
    if (!result.config) {
      reload.ok = false;
      metrics.reload(false, reload.config_hash, static_cast<double>(reload.at_ms) / 1000.0);
      for (const auto& d : result.errors) {
        reload.errors.push_back(d.to_string());
        log::error("reload_error", {{"message", d.to_string()}});
      }
      log::error("reload_failed", {{"errors", static_cast<std::int64_t>(result.errors.size())},
                                   {"hint", "the previous configuration keeps running; fix the file and send SIGHUP again"}});
      return;
    }
    auto& loaded = *result.config;
    reload.ok = true;
    reload.config_hash = hash;
    metrics.reload(true, hash, static_cast<double>(reload.at_ms) / 1000.0);
    reload.restart_needed = needs_restart(config, loaded);
    server.set_intake(std::make_shared<const intake::Intake>(loaded.sources));
    pipeline.set_routes(loaded.routes);
    pipeline.set_validator(loaded.validator);
    std::string tls_error;
    if (!server.reload_tls(tls_error)) {
      log::error("tls_reload_failed", {{"message", tls_error}, {"hint", "the previous certificate stays in use"}});
    } else if (!config.server.tls_cert_file.empty()) {
      log::info("tls_reloaded", {log::safe("certificate", config.server.tls_cert_file)});
    }
    log::set_level(loaded.logging.level);
    config.sources = loaded.sources;
    config.routes = loaded.routes;
    config.validator = loaded.validator;
    config.logging = loaded.logging;
    std::string restart;
    for (const auto& section : reload.restart_needed) restart += (restart.empty() ? "" : ", ") + section;
    log::info("reload_applied", {log::safe("config_hash", hash),
                                 {"sources", static_cast<std::int64_t>(loaded.sources.size())},
                                 {"routes", static_cast<std::int64_t>(loaded.routes->rules.size())},
                                 {"disposable_domains", static_cast<std::int64_t>(loaded.validator->disposable_count())},
                                 log::safe("restart_needed", restart)});
  };
  if (!server.reload_tls(error)) {
    log::error("tls_failed", {{"message", error}, {"hint", "check server.tls_cert_file and server.tls_key_file"}});
    return kExitConfig;
  }
  if (!server.listen(error)) {
    log::error("listen_failed", {{"message", error}});
    return kExitUnavailable;
  }

  log::info("starting", {log::safe("version", LEADRELAY_VERSION), log::safe("config", config.file.string()),
                         log::safe("state_dir", config.state_dir.string()),
                         {"io_threads", config.server.io_threads},
                         {"max_body_bytes", config.server.max_body_bytes},
                         {"sources", static_cast<std::int64_t>(config.sources.size())}});
  for (const auto& s : config.sources) {
    log::info("source", {log::safe("name", s.name), log::safe("path", s.path), log::safe("format", s.format),
                         log::safe("auth", auth_name(s.auth.type)),
                         {"secrets", static_cast<std::int64_t>(s.auth.secrets.size())}});
    if (s.auth.type == intake::AuthType::None) {
      log::warn("source_unauthenticated",
                {log::safe("name", s.name), {"hint", "anyone who can reach this path can post leads"}});
    }
  }
  asio::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
  bool draining = false;
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      if (!draining) {
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                   static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                       std::chrono::steady_clock::now().time_since_epoch())
                                                       .count()));
        reload_config();
        sd_notify(0, "READY=1");
      }
    } else if (!draining) {
      draining = true;
      sd_notify(0, "STOPPING=1");
      watchdog.cancel();
      admin.stop();
      log::info("draining", {{"signal", signo}, {"grace_ms", static_cast<std::int64_t>(config.server.shutdown_grace.count())}});
      server.drain([&] {
        log::info("drained");
        signals.cancel();
        work.reset();
      });
    } else {
      log::warn("aborting", {{"signal", signo}, {"hint", "second signal: closing connections now"}});
      server.abort();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  server.start();
  admin.start();
  log::info("admin_listening", {log::safe("address", admin.bound_address())});
  // Announced only now that signals are handled: a supervisor may stop us the moment it reads this.
  if (config.routes->rules.empty()) {
    log::warn("no_routes", {{"hint", "leads are stored but delivered nowhere; add 'routes:' to the config"}});
  }
  for (const auto& address : server.bound_addresses()) log::info("listening", {log::safe("address", address)});

  // systemd (Type=notify): ready now; watchdog pings from the I/O loop, so a wedged loop gets the service restarted.
  // Without NOTIFY_SOCKET (not under systemd) these calls do nothing.
  sd_notify(0, "READY=1\nSTATUS=accepting leads");
  std::function<void(boost::system::error_code)> ping = [&](boost::system::error_code ec) {
    if (ec) return;
    sd_notify(0, "WATCHDOG=1");
    watchdog.expires_after(std::chrono::microseconds(watchdog_usec / 2));
    watchdog.async_wait(ping);
  };
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    log::info("watchdog", {{"interval_ms", static_cast<std::int64_t>(watchdog_usec / 1000)}});
    ping({});
  }

  std::vector<std::thread> threads;
  for (int i = 1; i < config.server.io_threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();

  // Intake has stopped; route what was journaled, let Kafka acknowledge what is in flight, then close the store.
  pipeline.stop();
  if (kafka) kafka->stop(config.server.shutdown_grace);
  for (auto& s : sinks) s->stop();
  journal->stop();
  const auto stats = journal->stats();
  log::info("stopped", {{"leads_stored", stats.entries}, {"commits", stats.commits},
                        {"deliveries_pending", backlog.count()}});
  return kExitOk;
}

}  // namespace leadrelay::app
