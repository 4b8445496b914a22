#include "daemon/outbox/pipeline_worker.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <future>

#include <rapidjson/document.h>

#include <optional>
#include <unordered_map>

#include "daemon/intake/intake.hpp"
#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/pipeline/pipeline.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::outbox {
namespace {

struct PersonState {
  pipeline::PriorLeads leads;
  std::int64_t expires_ms = 0;
};

std::string actions_json(const std::vector<std::string>& actions) {
  std::string out = "[";
  for (const auto& a : actions) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : a) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    out += '"';
  }
  return out + "]";
}

std::vector<std::string> parse_actions(std::string_view json) {
  std::vector<std::string> out;
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.IsArray()) {
    for (const auto& a : d.GetArray()) {
      if (a.IsString()) out.emplace_back(a.GetString(), a.GetStringLength());
    }
  }
  return out;
}

struct Routed {
  std::int64_t seq = 0;
  std::string lead_id;
  int state = 0;
  std::string routed_json;
  std::string outcome;
  std::string source;
  std::string action;
  bool test_lead = false;
  std::string key;
  std::vector<std::string> destinations;
  std::vector<std::string> matched_rules;
  std::string drop_rule;
  std::string email_verdict, phone_verdict, quality;  // for the verdict metrics
  std::string person_key;  // empty: nobody to recognise
  PersonState person;      // the person-and-offer state after this lead
};

// A statement bound and stepped once; false with the database's message.
bool step(sqlite3* db, sqlite3_stmt* stmt, std::string& error) {
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) error = sqlite3_errmsg(db);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

// A text or blob column of the current row; empty when NULL.
std::string_view column(sqlite3_stmt* stmt, int i) {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, i));
  return data == nullptr ? std::string_view{}
                         : std::string_view(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
}

// The lead of a `leads` row (seq, lead, raw, format, lead_id, source, received_at_ms). Rows written before 0.9
// carry their mapped lead; since, the raw body is mapped here, as intake mapped it.
bool read_lead(sqlite3_stmt* row, model::Lead& lead, std::string& error) {
  if (const auto stored = column(row, 1); !stored.empty()) return model::from_json(stored, lead, error);
  return intake::map_journaled(column(row, 3), column(row, 2), column(row, 4), column(row, 5),
                               sqlite3_column_int64(row, 6), lead, error);
}

// A read transaction on the pipeline's own connection, from construction until end() or destruction.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db) : db_(db) { sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr); }
  ~ReadTransaction() { end(); }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  void end() {
    if (db_ != nullptr) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    db_ = nullptr;
  }

 private:
  sqlite3* db_;
};

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
                               std::shared_ptr<const routing::RouteTable> routes, const DedupConfig& dedup,
                               std::function<void()> on_deliveries,
                               std::shared_ptr<const validate::Validator> validator,
                               validate::MailDomainResolver* resolver)
    : journal_(journal),
      database_(std::move(database)),
      backlog_(backlog),
      dedup_(dedup),
      on_deliveries_(std::move(on_deliveries)),
      routes_(std::move(routes)),
      validator_(validator ? std::move(validator) : validate::Validator::defaults()),
      resolver_(resolver) {}

PipelineWorker::~PipelineWorker() {
  stop();
  sqlite3_finalize(select_);
  sqlite3_finalize(person_);
  sqlite3_close(db_);
}

bool PipelineWorker::start(std::string& error) {
  if (sqlite3_open_v2(database_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    error = "cannot read the store: " + std::string(sqlite3_errmsg(db_));
    return false;
  }
  sqlite3_busy_timeout(db_, journal::kBusyTimeoutMs);
  if (sqlite3_prepare_v3(db_,
                         "SELECT seq, lead, raw, format, lead_id, source, received_at_ms FROM leads WHERE seq > ?1 "
                         "ORDER BY seq LIMIT 64",
                         -1, SQLITE_PREPARE_PERSISTENT, &select_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(db_, "SELECT first_lead_id, occurrences, actions, expires_ms FROM person_keys WHERE key = ?1",
                         -1, SQLITE_PREPARE_PERSISTENT, &person_, nullptr) != SQLITE_OK) {
    error = "cannot read the store: " + std::string(sqlite3_errmsg(db_));
    return false;
  }
  cursor_ = query_int(db_, "SELECT COALESCE((SELECT value FROM cursors WHERE name = 'pipeline'), 0)");
  backlog_.add(query_int(db_, "SELECT COUNT(*) FROM deliveries WHERE state = 0"),
               query_int(db_, "SELECT COALESCE(SUM(bytes), 0) FROM deliveries WHERE state = 0"));
  const auto waiting = journal_.committed_seq() - cursor_;
  if (waiting > 0 || backlog_.count() > 0) {
    log::info("outbox_resumed", {{"leads_to_route", waiting}, {"deliveries_pending", backlog_.count()}});
  }
  thread_ = std::thread([this] {
    util::name_this_thread("lr-pipeline");
    util::enter_background();
    run();
  });
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

void PipelineWorker::set_validator(std::shared_ptr<const validate::Validator> validator) {
  std::lock_guard lock(routes_mutex_);
  validator_ = std::move(validator);
}

void PipelineWorker::run() {
  int failures = 0;
  while (!stopping_.load()) {
    if (journal_.committed_seq() <= cursor_) {
      journal_.wait_committed_after(cursor_, std::chrono::milliseconds(200));
      continue;
    }
    const auto before = cursor_.load();
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
  std::shared_ptr<const validate::Validator> validator;
  {
    std::lock_guard lock(routes_mutex_);
    routes = routes_;
    validator = validator_;
  }
  auto batch = std::make_shared<std::vector<Routed>>();
  // Person-and-offer state: this batch's own updates first (a person may appear twice in one batch), then the
  // store. Looked up here so that the pipeline itself stays free of I/O.
  std::unordered_map<std::string, PersonState> seen;
  const auto prior_of = [&](const std::string& key, std::int64_t now) -> std::optional<PersonState> {
    if (key.empty() || dedup_.person_window.count() == 0) return std::nullopt;
    std::optional<PersonState> found;
    if (const auto it = seen.find(key); it != seen.end()) {
      found = it->second;
    } else {
      sqlite3_bind_text(person_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      if (sqlite3_step(person_) == SQLITE_ROW) {
        PersonState p;
        p.leads.first_lead_id = reinterpret_cast<const char*>(sqlite3_column_text(person_, 0));
        p.leads.occurrences = sqlite3_column_int(person_, 1);
        p.leads.actions = parse_actions(reinterpret_cast<const char*>(sqlite3_column_text(person_, 2)));
        p.expires_ms = sqlite3_column_int64(person_, 3);
        found = std::move(p);
      }
      sqlite3_reset(person_);
    }
    if (found && found->expires_ms <= now) return std::nullopt;  // the window has passed: a new first lead
    return found;
  };
  // The batch's reads share read transactions (its leads; then one person lookup per lead): one pair of WAL
  // read-lock system calls each instead of one per statement. None is open during the DNS lookups or once the
  // batch's write is queued, so that no reader holds the WAL while the writer wants to start it over.
  ReadTransaction reading(db_);
  sqlite3_bind_int64(select_, 1, cursor_);
  // First read the batch and look up the email domains it names (DNS, bounded by the resolver's deadline), so
  // that the pipeline itself does no I/O.
  std::vector<std::pair<std::int64_t, model::Lead>> leads;
  std::vector<std::string> domains;
  while (sqlite3_step(select_) == SQLITE_ROW) {
    const auto seq = sqlite3_column_int64(select_, 0);
    model::Lead lead;
    std::string error;
    if (!read_lead(select_, lead, error)) {
      // Cannot happen for rows this program wrote; keep the row, mark it, and move on rather than stall.
      log::error("lead_unreadable", {{"seq", seq}, {"message", error}});
      Routed r;
      r.seq = seq;
      r.state = 3;
      r.outcome = "unreadable";
      batch->push_back(std::move(r));
      continue;
    }
    if (resolver_ != nullptr) {
      if (auto domain = validator->domain_to_resolve(lead.contact.email); !domain.empty()) {
        domains.push_back(std::move(domain));
      }
    }
    leads.emplace_back(seq, std::move(lead));
  }
  sqlite3_reset(select_);
  reading.end();
  validate::MailDomains mail;
  if (resolver_ != nullptr && !domains.empty()) mail = resolver_->resolve(domains);

  ReadTransaction lookups(db_);

  for (auto& [seq, lead] : leads) {
    Routed r;
    r.seq = seq;
    r.person_key = pipeline::person_key(lead);
    const auto prior = prior_of(r.person_key, lead.received_at_ms);
    const auto outcome = pipeline::run(*routes, lead, prior ? &prior->leads : nullptr, validator.get(),
                                       resolver_ != nullptr ? &mail : nullptr);
    r.email_verdict = lead.email_check.verdict;
    r.phone_verdict = lead.phone_check.verdict;
    r.quality = lead.quality;
    if (!r.person_key.empty() && dedup_.person_window.count() > 0) {
      r.person.leads.first_lead_id = prior ? prior->leads.first_lead_id : lead.lead_id;
      r.person.leads.occurrences = lead.occurrence;
      r.person.leads.actions = lead.action_history;
      // The window runs from the first lead: the partner's 14 days to respond start then.
      r.person.expires_ms = prior ? prior->expires_ms : lead.received_at_ms + dedup_.person_window.count();
      seen[r.person_key] = r.person;
    }
    r.lead_id = lead.lead_id;
    r.source = lead.source_name;
    r.action = lead.action.code;
    r.test_lead = lead.test_lead;
    r.matched_rules = outcome.matched_rules;
    r.drop_rule = outcome.drop_rule;
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
  lookups.end();
  if (batch->empty()) return true;

  // Unreadable rows were set aside while reading: back into journal order, so the cursor is the last seq.
  std::sort(batch->begin(), batch->end(), [](const Routed& a, const Routed& b) { return a.seq < b.seq; });
  const auto last_seq = batch->back().seq;
  std::promise<bool> committed;
  auto done = committed.get_future();
  journal::WriteJob job;
  const auto prune_before = batch->back().person.expires_ms > 0 ? log::now_unix_ms() : 0;
  job.apply = [batch, last_seq, prune_before](sqlite3* db, std::string& error) {
    sqlite3_stmt* update = nullptr;
    sqlite3_stmt* insert = nullptr;
    sqlite3_stmt* cursor = nullptr;
    sqlite3_stmt* person = nullptr;
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO person_keys (key, first_lead_id, occurrences, actions, expires_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &person, nullptr);
    sqlite3_prepare_v2(db,
                       "INSERT OR REPLACE INTO routed (state, lead, outcome, seq, lead_id, source, action, test_lead) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       -1, &update, nullptr);
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
      sqlite3_bind_text(update, 5, r.lead_id.data(), static_cast<int>(r.lead_id.size()), SQLITE_STATIC);
      sqlite3_bind_text(update, 6, r.source.data(), static_cast<int>(r.source.size()), SQLITE_STATIC);
      sqlite3_bind_text(update, 7, r.action.data(), static_cast<int>(r.action.size()), SQLITE_STATIC);
      sqlite3_bind_int(update, 8, r.test_lead ? 1 : 0);
      ok = ok && step(db, update, error);
      for (const auto& d : r.destinations) {
        sqlite3_bind_int64(insert, 1, r.seq);
        sqlite3_bind_text(insert, 2, d.data(), static_cast<int>(d.size()), SQLITE_STATIC);
        sqlite3_bind_text(insert, 3, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
        sqlite3_bind_int64(insert, 4, static_cast<std::int64_t>(r.routed_json.size()));
        ok = ok && step(db, insert, error);
      }
      if (ok && !r.person_key.empty() && r.person.expires_ms > 0) {
        const auto actions = actions_json(r.person.leads.actions);
        sqlite3_bind_text(person, 1, r.person_key.data(), static_cast<int>(r.person_key.size()), SQLITE_STATIC);
        sqlite3_bind_text(person, 2, r.person.leads.first_lead_id.data(),
                          static_cast<int>(r.person.leads.first_lead_id.size()), SQLITE_STATIC);
        sqlite3_bind_int(person, 3, r.person.leads.occurrences);
        sqlite3_bind_text(person, 4, actions.data(), static_cast<int>(actions.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(person, 5, r.person.expires_ms);
        ok = step(db, person, error);
      }
      if (!ok) break;
    }
    sqlite3_bind_int64(cursor, 1, last_seq);
    ok = ok && step(db, cursor, error);
    sqlite3_finalize(update);
    sqlite3_finalize(insert);
    sqlite3_finalize(cursor);
    sqlite3_finalize(person);
    if (ok && prune_before > 0) {
      // Expired person keys, a slice at a time so no commit waits on a big delete.
      const auto prune = "DELETE FROM person_keys WHERE key IN (SELECT key FROM person_keys WHERE expires_ms <= " +
                         std::to_string(prune_before) + " LIMIT 1000)";
      char* message = nullptr;
      if (sqlite3_exec(db, prune.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        error = message != nullptr ? message : "prune failed";
        ok = false;
      }
      sqlite3_free(message);
    }
    return ok;
  };
  job.done = [&committed](bool ok) { committed.set_value(ok); };
  journal_.submit(std::move(job));
  if (!done.get()) return false;
  // Counted once the outcome is durable, so a retried batch is not counted twice.
  auto& metrics = metrics::Metrics::get();
  for (const auto& r : *batch) {
    for (const auto& rule : r.matched_rules) metrics.route_matched(rule);
    if (r.state == 2) metrics.lead_dropped(r.drop_rule);
    if (r.state == 3) metrics.lead_unrouted();
    if (r.person.leads.occurrences > 1) metrics.lead_linked();
    if (!r.quality.empty()) metrics.verdicts(r.email_verdict, r.phone_verdict, r.quality);
  }

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
