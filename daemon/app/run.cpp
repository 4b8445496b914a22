#include "daemon/app/run.hpp"

#include "daemon/util/asio.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <malloc.h>

#include "daemon/app/component.hpp"
#include "daemon/app/services.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/routing/router.hpp"
#include "daemon/util/digest.hpp"

namespace leadrelay::app {
namespace asio = boost::asio;

namespace {

// What a reload cannot apply while running: these sections take effect at the next start.
std::vector<std::string> needs_restart(const Config& running, const Config& loaded) {
  std::vector<std::string> out;
  if (!(running.server == loaded.server)) out.emplace_back("server");
  // admin.tokens apply at once (a token can be revoked without a restart); the listener itself cannot move.
  if (!(running.admin.listen == loaded.admin.listen) || running.admin.tls_cert_file != loaded.admin.tls_cert_file ||
      running.admin.tls_key_file != loaded.admin.tls_key_file) {
    out.emplace_back("admin");
  }
  if (running.state_dir != loaded.state_dir) out.emplace_back("state_dir");
  if (!(running.journal == loaded.journal)) out.emplace_back("journal");
  if (!(running.kafka == loaded.kafka)) out.emplace_back("kafka");
  if (!(running.outbox == loaded.outbox)) out.emplace_back("outbox");
  if (!(running.dedup == loaded.dedup)) out.emplace_back("dedup");
  if (!(running.validation.dns == loaded.validation.dns)) out.emplace_back("validation.dns");
  if (!(running.sinks == loaded.sinks)) out.emplace_back("sinks");
  if (!(running.partner_center == loaded.partner_center)) out.emplace_back("partner_center");
  // Rules, times and the console link apply at once; the senders (mail server, channels, retry, templates) do not.
  if (running.notifications.configured != loaded.notifications.configured ||
      running.notifications.delivery_fingerprint != loaded.notifications.delivery_fingerprint) {
    out.emplace_back("notifications (email, channels, retry, templates_dir)");
  }
  return out;
}

std::string file_hash(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return util::sha256_hex(text.str()).substr(0, 16);
}

// SIGHUP: validate the whole file first; hand it to every component (sources, TLS, routes, validation lists) and
// apply the log level; keep everything as it was when the file has an error. Listening sockets are never touched.
void reload(Services& s, const std::vector<std::unique_ptr<Component>>& components) {
  auto result = load_config_file(s.config.file);
  const auto hash = file_hash(s.config.file);
  auto& metrics = metrics::Metrics::get();
  std::lock_guard lock(s.reload.mutex);
  s.reload.at_ms = log::now_unix_ms();
  s.reload.errors.clear();
  s.reload.restart_needed.clear();
  if (!result.config) {
    s.reload.ok = false;
    metrics.reload(false, s.reload.config_hash, static_cast<double>(s.reload.at_ms) / 1000.0);
    for (const auto& d : result.errors) {
      s.reload.errors.push_back(d.to_string());
      log::error("reload_error", {{"message", d.to_string()}});
    }
    log::error("reload_failed", {{"errors", static_cast<std::int64_t>(result.errors.size())},
                                 {"hint", "the previous configuration keeps running; fix the file and send SIGHUP again"}});
    return;
  }
  auto& loaded = *result.config;
  s.reload.ok = true;
  s.reload.config_hash = hash;
  metrics.reload(true, hash, static_cast<double>(s.reload.at_ms) / 1000.0);
  s.reload.restart_needed = needs_restart(s.config, loaded);
  for (const auto& c : components) c->reload(s, loaded);
  log::set_level(loaded.logging.level);
  s.config.sources = loaded.sources;
  s.config.routes = loaded.routes;
  s.config.validator = loaded.validator;
  s.config.logging = loaded.logging;
  s.config.lifecycle = loaded.lifecycle;
  s.config.notifications.rules = loaded.notifications.rules;
  s.config.retention = loaded.retention;
  s.config.admin.tokens = loaded.admin.tokens;
  std::string restart;
  for (const auto& section : s.reload.restart_needed) restart += (restart.empty() ? "" : ", ") + section;
  log::info("reload_applied", {log::safe("config_hash", hash),
                               {"sources", static_cast<std::int64_t>(loaded.sources.size())},
                               {"routes", static_cast<std::int64_t>(loaded.routes->rules.size())},
                               {"disposable_domains", static_cast<std::int64_t>(loaded.validator->disposable_count())},
                               log::safe("restart_needed", restart)});
}

}  // namespace

int run_daemon(const Config& initial) {
  log::set_level(initial.logging.level);
  std::signal(SIGPIPE, SIG_IGN);
  // Each thread's malloc arena grows and shrinks by a few pages at a time as request bodies come and go, one
  // mprotect(2) each (a third of one per request under load). Growing by 16 MiB and keeping up to 64 MiB free at
  // the top makes that rare, for a bounded cost in resident memory. (glibc's malloc only: the daemon is normally
  // linked with tcmalloc, whose mallopt does nothing; sanitizer builds keep glibc's.)
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

  Services services(initial);
  services.started_ms = log::now_unix_ms();
  services.reload.config_hash = file_hash(initial.file);
  services.reload.at_ms = services.started_ms;
  auto work = asio::make_work_guard(services.ioc());
  const auto components = daemon_components();
  services.reload_all = [&] { reload(services, components); };
  services.stop_io = [&work] { work.reset(); };

  // Started in order; on a failure, what already started stops in reverse order.
  std::size_t started = 0;
  const auto stop_started = [&] {
    while (started > 0) {
      components[--started]->stop(services);
      log::debug("component_stopped", {log::safe("component", components[started]->name())});
    }
  };
  for (; started < components.size(); ++started) {
    int exit_code = kExitCantCreate;
    if (!components[started]->start(services, exit_code)) {
      log::debug("component_failed", {log::safe("component", components[started]->name())});
      stop_started();
      return exit_code;
    }
  }

  // Runs until intake has drained after SIGTERM/SIGINT (the service component ends the loop).
  std::vector<std::thread> threads;
  for (int i = 1; i < initial.server.io_threads; ++i) threads.emplace_back([&services] { services.ioc().run(); });
  services.ioc().run();
  for (auto& t : threads) t.join();

  // Intake has stopped; the rest stops in reverse order: the pipeline routes what was journaled, the destinations
  // let what is in flight be acknowledged, then the store closes.
  stop_started();
  return kExitOk;
}

}  // namespace leadrelay::app
