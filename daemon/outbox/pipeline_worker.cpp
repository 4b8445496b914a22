#include "daemon/outbox/pipeline_worker.hpp"

#include <sqlite3.h>

#include <future>

#include "daemon/log/log.hpp"
#include "daemon/pipeline/pipeline.hpp"

namespace leadrelay::outbox {
namespace {

struct Routed {
  std::int64_t seq = 0;
  std::string lead_id;
  int state = 0;
  std::string routed_json;
  std::string outcome;
  std::string key;
  std::vector<std::string> destinations;
};

// A statement bound and stepped once; false with the database's message.
bool step(sqlite3* db, sqlite3_stmt* stmt, std::string& error) {
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) error = sqlite3_errmsg(db);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

std::int64_t query_int(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return value;
}

}  // namespace

PipelineWorker::PipelineWorker(journal::Journal& journal, std::filesystem::path database, Backlog& backlog,
                               std::shared_ptr<const routing::RouteTable> routes, std::function<void()> on_deliveries)
    : journal_(journal),
      database_(std::move(database)),
      backlog_(backlog),
      on_deliveries_(std::move(on_deliveries)),
      routes_(std::move(routes)) {}

PipelineWorker::~PipelineWorker() {
  stop();
  sqlite3_close(db_);
}

bool PipelineWorker::start(std::string& error) {
  if (sqlite3_open_v2(database_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot read the store: " + std::string(sqlite3_errmsg(db_));
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  cursor_ = query_int(db_, "SELECT COALESCE((SELECT value FROM cursors WHERE name = 'pipeline'), 0)");
  backlog_.add(query_int(db_, "SELECT COUNT(*) FROM deliveries WHERE state = 0"),
               query_int(db_, "SELECT COALESCE(SUM(bytes), 0) FROM deliveries WHERE state = 0"));
  const auto waiting = journal_.committed_seq() - cursor_;
  if (waiting > 0 || backlog_.count() > 0) {
    log::info("outbox_resumed", {{"leads_to_route", waiting}, {"deliveries_pending", backlog_.count()}});
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void PipelineWorker::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
}

void PipelineWorker::set_routes(std::shared_ptr<const routing::RouteTable> routes) {
  std::lock_guard lock(routes_mutex_);
  routes_ = std::move(routes);
}

void PipelineWorker::run() {
  int failures = 0;
  while (!stopping_.load()) {
    if (journal_.committed_seq() <= cursor_) {
      journal_.wait_committed_after(cursor_, std::chrono::milliseconds(200));
      continue;
    }
    const auto before = cursor_;
    if (process_batch()) {
      failures = 0;
      if (cursor_ == before) {
        // Nothing readable past the cursor yet: wait for the next commit instead of spinning.
        journal_.wait_committed_after(journal_.committed_seq(), std::chrono::milliseconds(50));
      } else if (on_deliveries_) {
        on_deliveries_();
      }
    } else {
      // The store refused the write (disk full): back off, then route the same leads again.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 100 << std::min(failures++, 6))));
    }
  }
}

bool PipelineWorker::process_batch() {
  std::shared_ptr<const routing::RouteTable> routes;
  {
    std::lock_guard lock(routes_mutex_);
    routes = routes_;
  }
  auto batch = std::make_shared<std::vector<Routed>>();
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db_, "SELECT seq, lead FROM leads WHERE seq > ?1 ORDER BY seq LIMIT 512", -1, &select, nullptr);
  sqlite3_bind_int64(select, 1, cursor_);
  while (sqlite3_step(select) == SQLITE_ROW) {
    Routed r;
    r.seq = sqlite3_column_int64(select, 0);
    const std::string json(reinterpret_cast<const char*>(sqlite3_column_text(select, 1)),
                           static_cast<std::size_t>(sqlite3_column_bytes(select, 1)));
    model::Lead lead;
    std::string error;
    if (!model::from_json(json, lead, error)) {
      // Cannot happen for rows this program wrote; keep the row, mark it, and move on rather than stall.
      log::error("lead_unreadable", {{"seq", r.seq}, {"message", error}});
      r.state = 3;
      r.outcome = "unreadable";
      batch->push_back(std::move(r));
      continue;
    }
    const auto outcome = pipeline::run(*routes, lead);
    r.lead_id = lead.lead_id;
    r.routed_json = model::to_json(lead);
    r.key = pipeline::message_key(lead);
    switch (outcome.kind) {
      case pipeline::Outcome::Kind::Routed:
        r.state = 1;
        r.outcome = "routed";
        for (const auto& d : outcome.destinations) r.destinations.push_back(d.id());
        break;
      case pipeline::Outcome::Kind::Dropped:
        r.state = 2;
        r.outcome = "dropped by rule '" + outcome.drop_rule + "': " + outcome.drop_reason;
        log::info("lead_dropped", {log::safe("lead_id", r.lead_id), log::safe("rule", outcome.drop_rule),
                                   {"reason", outcome.drop_reason}});
        break;
      case pipeline::Outcome::Kind::Unrouted:
        r.state = 3;
        r.outcome = "no rule matched";
        // With no routes at all this was said once at start; with routes, a lead slipping through is news.
        if (!routes->rules.empty()) {
          log::warn("lead_unrouted", {log::safe("lead_id", r.lead_id),
                                      {"hint", "no route matched; add a default rule (one without 'when')"}});
        }
        break;
    }
    batch->push_back(std::move(r));
  }
  sqlite3_finalize(select);
  if (batch->empty()) return true;

  const auto last_seq = batch->back().seq;
  std::promise<bool> committed;
  auto done = committed.get_future();
  journal::WriteJob job;
  job.apply = [batch, last_seq](sqlite3* db, std::string& error) {
    sqlite3_stmt* update = nullptr;
    sqlite3_stmt* insert = nullptr;
    sqlite3_stmt* cursor = nullptr;
    sqlite3_prepare_v2(db, "UPDATE leads SET state = ?1, routed = ?2, outcome = ?3 WHERE seq = ?4", -1, &update, nullptr);
    sqlite3_prepare_v2(db, "INSERT INTO deliveries (lead_seq, destination, msg_key, bytes) VALUES (?1, ?2, ?3, ?4)", -1,
                       &insert, nullptr);
    sqlite3_prepare_v2(db, "INSERT INTO cursors (name, value) VALUES ('pipeline', ?1) "
                           "ON CONFLICT(name) DO UPDATE SET value = excluded.value", -1, &cursor, nullptr);
    bool ok = true;
    for (const auto& r : *batch) {
      sqlite3_bind_int(update, 1, r.state);
      if (r.routed_json.empty()) {
        sqlite3_bind_null(update, 2);
      } else {
        sqlite3_bind_text(update, 2, r.routed_json.data(), static_cast<int>(r.routed_json.size()), SQLITE_STATIC);
      }
      sqlite3_bind_text(update, 3, r.outcome.data(), static_cast<int>(r.outcome.size()), SQLITE_STATIC);
      sqlite3_bind_int64(update, 4, r.seq);
      ok = ok && step(db, update, error);
      for (const auto& d : r.destinations) {
        sqlite3_bind_int64(insert, 1, r.seq);
        sqlite3_bind_text(insert, 2, d.data(), static_cast<int>(d.size()), SQLITE_STATIC);
        sqlite3_bind_text(insert, 3, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
        sqlite3_bind_int64(insert, 4, static_cast<std::int64_t>(r.routed_json.size()));
        ok = ok && step(db, insert, error);
      }
      if (!ok) break;
    }
    sqlite3_bind_int64(cursor, 1, last_seq);
    ok = ok && step(db, cursor, error);
    sqlite3_finalize(update);
    sqlite3_finalize(insert);
    sqlite3_finalize(cursor);
    return ok;
  };
  job.done = [&committed](bool ok) { committed.set_value(ok); };
  journal_.submit(std::move(job));
  if (!done.get()) return false;

  std::int64_t count = 0;
  std::int64_t bytes = 0;
  for (const auto& r : *batch) {
    count += static_cast<std::int64_t>(r.destinations.size());
    bytes += static_cast<std::int64_t>(r.destinations.size() * r.routed_json.size());
  }
  backlog_.add(count, bytes);
  cursor_ = last_seq;
  return true;
}

}  // namespace leadrelay::outbox
