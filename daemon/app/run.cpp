#include "daemon/app/run.hpp"

#include "daemon/util/asio.hpp"

#include <csignal>
#include <thread>

#include "connectors/kafka/kafka_sink.hpp"
#include "connectors/kafka/mock_cluster.hpp"
#include "daemon/http/server.hpp"
#include "daemon/intake/intake.hpp"
#include "daemon/journal/journal.hpp"
#include "daemon/log/log.hpp"
#include "daemon/outbox/pipeline_worker.hpp"

namespace leadrelay::app {
namespace asio = boost::asio;

namespace {
std::string_view auth_name(intake::AuthType type) {
  switch (type) {
    case intake::AuthType::QuerySecret: return "query_secret";
    case intake::AuthType::Bearer: return "bearer";
    case intake::AuthType::None: return "none";
  }
  return "?";
}
}  // namespace

int run_daemon(const config::Config& config) {
  log::set_level(config.logging.level);
  std::signal(SIGPIPE, SIG_IGN);

  std::string error;
  // Declared before the io_context: coroutines reference them, so they must outlive it.
  auto journal = journal::Journal::open(config.state_dir, config.journal, error);
  if (!journal) {
    log::error("store_open_failed", {{"message", error}, {"hint", "check that state_dir is writable by this user"}});
    return kExitCantCreate;
  }
  const intake::Intake intake(config.sources);

  // Delivery: the outbox's backlog, the Kafka producer (with a mock cluster in-process for `brokers: embedded`),
  // and the pipeline worker that routes each journaled lead into the outbox.
  outbox::Backlog backlog(config.outbox);
  std::unique_ptr<connectors::kafka::MockCluster> embedded;
  std::unique_ptr<connectors::kafka::KafkaSink> kafka;
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
    kafka = std::make_unique<connectors::kafka::KafkaSink>(config.kafka, bootstrap, *journal,
                                                           journal::Journal::database_path(config.state_dir), backlog);
    if (!kafka->start(error)) {
      log::error("kafka_start_failed", {{"message", error}});
      return kExitConfig;
    }
  }
  outbox::PipelineWorker pipeline(*journal, journal::Journal::database_path(config.state_dir), backlog, config.routes,
                                  [&kafka] {
                                    if (kafka) kafka->notify();
                                  });
  if (!pipeline.start(error)) {
    log::error("store_open_failed", {{"message", error}});
    return kExitCantCreate;
  }

  asio::io_context ioc(config.server.io_threads);
  auto work = asio::make_work_guard(ioc);
  http::Server server(ioc, config.server, intake, *journal, &backlog);
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
      log::warn("reload_unsupported", {{"hint", "this version reads its config at start only; restart to apply changes"}});
    } else if (!draining) {
      draining = true;
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
  // Announced only now that signals are handled: a supervisor may stop us the moment it reads this.
  for (const auto& address : server.bound_addresses()) log::info("listening", {log::safe("address", address)});

  std::vector<std::thread> threads;
  for (int i = 1; i < config.server.io_threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();

  // Intake has stopped; route what was journaled, let Kafka acknowledge what is in flight, then close the store.
  pipeline.stop();
  if (kafka) kafka->stop(config.server.shutdown_grace);
  journal->stop();
  const auto stats = journal->stats();
  log::info("stopped", {{"leads_stored", stats.entries}, {"commits", stats.commits},
                        {"deliveries_pending", backlog.count()}});
  return kExitOk;
}

}  // namespace leadrelay::app
