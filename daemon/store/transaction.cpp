#include "daemon/store/transaction.hpp"

#include "daemon/store/sqlite.hpp"

namespace leadrelay::store {
namespace {
using detail::bind;
using detail::bind_dead_letter_filter;
using detail::step_once;

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

}  // namespace

Transaction::Transaction(sqlite3* db) : statements_(std::make_unique<detail::Statements>(db)) {}
Transaction::~Transaction() = default;

bool Transaction::record_routing(std::span<const RoutingRecord> records, std::int64_t cursor, std::string& error) {
  auto& s = *statements_;
  sqlite3* db = s.db();
  auto* routed = s.get("INSERT OR REPLACE INTO routed (state, lead, outcome, seq, lead_id, source, action, test_lead) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       error);
  auto* delivery = s.get("INSERT INTO deliveries (lead_seq, destination, msg_key, bytes) VALUES (?1, ?2, ?3, ?4)", error);
  auto* person = s.get("INSERT OR REPLACE INTO person_keys (key, first_lead_id, occurrences, actions, expires_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
                       error);
  if (routed == nullptr || delivery == nullptr || person == nullptr) return false;
  for (const auto& r : records) {
    sqlite3_bind_int(routed, 1, static_cast<int>(r.state));
    if (r.lead_json.empty()) {
      sqlite3_bind_null(routed, 2);
    } else {
      bind(routed, 2, r.lead_json);
    }
    bind(routed, 3, r.outcome);
    sqlite3_bind_int64(routed, 4, r.seq);
    bind(routed, 5, r.lead_id);
    bind(routed, 6, r.source);
    bind(routed, 7, r.action);
    sqlite3_bind_int(routed, 8, r.test_lead ? 1 : 0);
    if (!step_once(db, routed, error)) return false;
    for (const auto& d : r.destinations) {
      sqlite3_bind_int64(delivery, 1, r.seq);
      bind(delivery, 2, d);
      bind(delivery, 3, r.msg_key);
      sqlite3_bind_int64(delivery, 4, static_cast<std::int64_t>(r.lead_json.size()));
      if (!step_once(db, delivery, error)) return false;
    }
    if (!r.person_key.empty() && r.person && r.person->expires_ms > 0) {
      const auto actions = actions_json(r.person->actions);
      bind(person, 1, r.person_key);
      bind(person, 2, r.person->first_lead_id);
      sqlite3_bind_int(person, 3, r.person->occurrences);
      bind(person, 4, actions);
      sqlite3_bind_int64(person, 5, r.person->expires_ms);
      if (!step_once(db, person, error)) return false;
    }
  }
  auto* position = s.get("INSERT INTO cursors (name, value) VALUES ('pipeline', ?1) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                         error);
  if (position == nullptr) return false;
  sqlite3_bind_int64(position, 1, cursor);
  return step_once(db, position, error);
}

bool Transaction::prune_person_keys(std::int64_t before_ms, std::string& error) {
  auto* prune = statements_->get(
      "DELETE FROM person_keys WHERE key IN (SELECT key FROM person_keys WHERE expires_ms <= ?1 LIMIT 1000)", error);
  if (prune == nullptr) return false;
  sqlite3_bind_int64(prune, 1, before_ms);
  return step_once(statements_->db(), prune, error);
}

bool Transaction::ack_deliveries(std::span<const DeliveryAck> acks, std::int64_t now_ms, std::string& error) {
  for (const auto& a : acks) {
    auto* update = statements_->get("UPDATE deliveries SET state = ?1, error = ?2, done_ms = ?3 WHERE id = ?4", error);
    if (update == nullptr) return false;
    sqlite3_bind_int(update, 1, a.error.empty() ? 1 : 2);
    if (a.error.empty()) {
      sqlite3_bind_null(update, 2);
    } else {
      bind(update, 2, a.error);
    }
    sqlite3_bind_int64(update, 3, now_ms);
    sqlite3_bind_int64(update, 4, a.id);
    if (!step_once(statements_->db(), update, error)) return false;
  }
  return true;
}

bool Transaction::replay_dead_letters(const DeadLetterFilter& filter, std::int64_t& count, std::int64_t& bytes,
                                      std::string& error) {
  auto& s = *statements_;
  auto* totals = s.get("SELECT COUNT(*), COALESCE(SUM(d.bytes), 0) FROM deliveries d WHERE " LEADRELAY_DEAD_LETTER_MATCH,
                       error);
  if (totals == nullptr) return false;
  bind_dead_letter_filter(totals, filter);
  if (sqlite3_step(totals) != SQLITE_ROW) {
    error = sqlite3_errmsg(s.db());
    sqlite3_reset(totals);
    return false;
  }
  count = sqlite3_column_int64(totals, 0);
  bytes = sqlite3_column_int64(totals, 1);
  sqlite3_reset(totals);
  for (const char* sql : {"INSERT INTO deliveries (lead_seq, destination, msg_key, bytes) SELECT d.lead_seq, "
                          "d.destination, d.msg_key, d.bytes FROM deliveries d WHERE " LEADRELAY_DEAD_LETTER_MATCH
                          " ORDER BY d.id",
                          "UPDATE deliveries AS d SET state = 4 WHERE " LEADRELAY_DEAD_LETTER_MATCH}) {
    auto* stmt = s.get(sql, error);
    if (stmt == nullptr) return false;
    bind_dead_letter_filter(stmt, filter);
    if (!step_once(s.db(), stmt, error)) return false;
  }
  return true;
}

}  // namespace leadrelay::store
