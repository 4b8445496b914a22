#include "daemon/store/transaction.hpp"

#include <algorithm>

#include "daemon/store/insight_sql.hpp"
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

namespace {
// Binds a lifecycle's changing columns to ?1-?11 (status, version, hot, expires, accepted, closed, deal, reason,
// notes, favorite; ?11 unused here) of the insert or update below.
void bind_lifecycle(sqlite3_stmt* stmt, const model::Lifecycle& l, std::string& deal) {
  deal = l.deal == model::Deal{} ? std::string() : model::deal_to_json(l.deal);
  const auto status = model::to_string(l.status);
  sqlite3_bind_text(stmt, 1, status.data(), static_cast<int>(status.size()), SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 2, l.version);
  sqlite3_bind_int64(stmt, 3, l.hot_until_ms);
  sqlite3_bind_int64(stmt, 4, l.expires_at_ms);
  sqlite3_bind_int64(stmt, 5, l.accepted_at_ms);
  sqlite3_bind_int64(stmt, 6, l.closed_at_ms);
  const auto optional_text = [stmt](int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(stmt, i);
    } else {
      bind(stmt, i, v);
    }
  };
  optional_text(7, deal);
  optional_text(8, l.reason);
  optional_text(9, l.notes);
  sqlite3_bind_int(stmt, 10, l.favorite ? 1 : 0);
}
}  // namespace

bool Transaction::record_routing(std::span<const RoutingRecord> records, std::int64_t cursor, std::string& error,
                                 DeliveryTotals* added) {
  DeliveryTotals totals;
  auto& s = *statements_;
  sqlite3* db = s.db();
  auto* routed = s.get("INSERT OR REPLACE INTO routed (state, lead, outcome, seq, lead_id, source, action, test_lead) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       error);
  auto* delivery = s.get("INSERT INTO deliveries (lead_seq, destination, msg_key, bytes) VALUES (?1, ?2, ?3, ?4)", error);
  auto* person = s.get("INSERT OR REPLACE INTO person_keys (key, first_lead_id, occurrences, actions, expires_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)",
                       error);
  auto* lifecycle = s.get(
      "INSERT OR IGNORE INTO lifecycle (status, version, hot_until_ms, expires_at_ms, accepted_at_ms, closed_at_ms, "
      "deal, reason, notes, favorite, seq, lead_id, msg_key, received_at_ms, call_to_action, country, company, "
      "lead_source, lead_type, classification, quality, email_validity, phone_validity, destinations, referral_id, offer, "
      "program) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "
      "?21, ?22, ?23, ?24, ?25, ?26, ?27)",
      error);
  if (routed == nullptr || delivery == nullptr || person == nullptr || lifecycle == nullptr) return false;
  // The new lifecycle rows join the insight roll-ups after the loop, a statement per roll-up; meanwhile the marker
  // keeps the row trigger from adding each one (detail::insight_batch_sql).
  auto* batch_begin = s.get("INSERT OR REPLACE INTO cursors (name, value) VALUES ('insight_batch', 1)", error);
  auto* batch_end = s.get("DELETE FROM cursors WHERE name = 'insight_batch'", error);
  if (batch_begin == nullptr || batch_end == nullptr || !step_once(db, batch_begin, error)) return false;
  std::string inserted = "[";  // the seqs of the lifecycle rows this batch added, as a JSON array
  std::string deal;
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
      ++totals.count;
      totals.bytes += static_cast<std::int64_t>(r.lead_json.size());
    }
    if (r.lifecycle) {
      const auto& lc = *r.lifecycle;
      bind_lifecycle(lifecycle, lc.lifecycle, deal);
      sqlite3_bind_int64(lifecycle, 11, r.seq);
      bind(lifecycle, 12, r.lead_id);
      bind(lifecycle, 13, r.msg_key);
      sqlite3_bind_int64(lifecycle, 14, lc.lifecycle.received_at_ms);
      std::string joined;
      for (const auto& d : r.destinations) joined += (joined.empty() ? "" : "\n") + d;
      const std::string& destinations = joined;
      // ?15-?27, each NULL when empty.
      int i = 15;
      for (const auto* v : {&lc.call_to_action, &lc.country, &lc.company, &lc.lead_source, &lc.lead_type,
                            &lc.classification, &lc.quality, &lc.email_validity, &lc.phone_validity,
                            &destinations, &lc.referral_id, &lc.offer, &lc.program}) {
        if (v->empty()) {
          sqlite3_bind_null(lifecycle, i++);
        } else {
          bind(lifecycle, i++, *v);
        }
      }
      if (!step_once(db, lifecycle, error)) return false;
      if (sqlite3_changes(db) > 0) {
        if (inserted.size() > 1) inserted += ',';
        inserted += std::to_string(r.seq);
      }
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
    for (const auto& n : r.notifications) {
      if (!request_notification(r.seq, r.lead_id, n, r.lifecycle ? r.lifecycle->lifecycle.received_at_ms : 0, totals,
                                error)) {
        return false;
      }
    }
  }
  inserted += ']';
  if (inserted.size() > 2) {
    static const auto rollups = detail::insight_batch_sql();
    for (const auto& sql : rollups) {
      auto* add = s.get(sql.c_str(), error);
      if (add == nullptr) return false;
      bind(add, 1, inserted);
      if (!step_once(db, add, error)) return false;
    }
  }
  if (!step_once(db, batch_end, error)) return false;
  if (added != nullptr) {
    added->count += totals.count;
    added->bytes += totals.bytes;
  }
  return set_cursor("pipeline", cursor, error);
}

bool Transaction::request_notification(std::int64_t seq, const std::string& lead_id, const NotificationRequest& r,
                                       std::int64_t now_ms, DeliveryTotals& added, std::string& error) {
  auto& s = *statements_;
  // The rule's leads of that day so far, and whether that day's digest went out already (a lead routed late, after
  // its day's digest, is sent on its own rather than held for a digest that will not come).
  auto* count = s.get("SELECT COUNT(*), COALESCE(SUM(kind = 'digest'), 0) FROM notifications WHERE rule = ?1 AND "
                      "day = ?2 AND kind IN ('new_lead', 'hot', 'held', 'digested', 'noted', 'erased', 'digest')",
                      error);
  if (count == nullptr) return false;
  bind(count, 1, r.rule);
  bind(count, 2, r.day);
  if (sqlite3_step(count) != SQLITE_ROW) {
    error = sqlite3_errmsg(s.db());
    sqlite3_reset(count);
    return false;
  }
  const auto today = sqlite3_column_int64(count, 0) - sqlite3_column_int64(count, 1);
  const bool digest_made = sqlite3_column_int64(count, 1) > 0;
  sqlite3_reset(count);
  Notification n;
  if (r.hot) {
    n.kind = "hot";
  } else if (r.digest && !digest_made && (today >= r.digest_after || !r.single)) {
    n.kind = "held";
  } else if (r.single) {
    n.kind = "new_lead";
  } else {
    n.kind = "noted";  // nothing to send now (an expiry-only rule, or a digest already gone): kept for the warning
  }
  n.key = n.kind + "|" + r.rule + "|" + lead_id;
  n.rule = r.rule;
  n.day = r.day;
  n.lead_seq = seq;
  if (n.kind == "new_lead" || n.kind == "hot") {
    n.document = r.document;
    n.destinations = r.destinations;
  }
  bool created = false;
  return insert_notification(n, now_ms, created, added, error);
}

bool Transaction::record_notification(const Notification& n, std::int64_t now_ms, bool& created,
                                      DeliveryTotals& added, std::string& error) {
  if (!insert_notification(n, now_ms, created, added, error)) return false;
  if (!created || n.kind != "digest") return true;
  auto* mark = statements_->get("UPDATE notifications SET kind = 'digested' WHERE rule = ?1 AND day = ?2 AND "
                                "kind = 'held'",
                                error);
  if (mark == nullptr) return false;
  bind(mark, 1, n.rule);
  bind(mark, 2, n.day);
  return step_once(statements_->db(), mark, error);
}

bool Transaction::insert_notification(const Notification& n, std::int64_t now_ms, bool& created,
                                      DeliveryTotals& added, std::string& error) {
  auto& s = *statements_;
  auto* insert = s.get("INSERT OR IGNORE INTO notifications (key, kind, rule, day, lead_seq, created_ms, document) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                       error);
  auto* delivery = s.get("INSERT INTO deliveries (lead_seq, destination, msg_key, bytes, notification_id) VALUES "
                         "(?1, ?2, ?3, ?4, ?5)",
                         error);
  if (insert == nullptr || delivery == nullptr) return false;
  bind(insert, 1, n.key);
  bind(insert, 2, n.kind);
  bind(insert, 3, n.rule);
  bind(insert, 4, n.day);
  sqlite3_bind_int64(insert, 5, n.lead_seq);
  sqlite3_bind_int64(insert, 6, now_ms);
  if (n.document.empty()) {
    sqlite3_bind_null(insert, 7);
  } else {
    bind(insert, 7, n.document);
  }
  if (!step_once(s.db(), insert, error)) return false;
  created = sqlite3_changes(s.db()) > 0;
  if (!created) return true;
  const auto id = sqlite3_last_insert_rowid(s.db());
  for (const auto& d : n.destinations) {
    sqlite3_bind_int64(delivery, 1, n.lead_seq);
    bind(delivery, 2, d);
    bind(delivery, 3, n.key);
    sqlite3_bind_int64(delivery, 4, static_cast<std::int64_t>(n.document.size()));
    sqlite3_bind_int64(delivery, 5, id);
    if (!step_once(s.db(), delivery, error)) return false;
    ++added.count;
    added.bytes += static_cast<std::int64_t>(n.document.size());
  }
  return true;
}

bool Transaction::prune_person_keys(std::int64_t before_ms, std::string& error) {
  auto* prune = statements_->get(
      "DELETE FROM person_keys WHERE key IN (SELECT key FROM person_keys WHERE expires_ms <= ?1 LIMIT 1000)", error);
  if (prune == nullptr) return false;
  sqlite3_bind_int64(prune, 1, before_ms);
  return step_once(statements_->db(), prune, error);
}

bool Transaction::prune_replay_keys(std::int64_t before_ms, std::string& error) {
  auto* prune = statements_->get(
      "DELETE FROM replay_keys WHERE key IN (SELECT key FROM replay_keys WHERE expires_ms <= ?1 LIMIT 1000)", error);
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
    if (a.clear_key) {
      auto* clear = statements_->get("UPDATE deliveries SET msg_key = (SELECT lead_id FROM routed WHERE seq = "
                                     "deliveries.lead_seq) WHERE id = ?1",
                                     error);
      if (clear == nullptr) return false;
      sqlite3_bind_int64(clear, 1, a.id);
      if (!step_once(statements_->db(), clear, error)) return false;
    }
    if (!a.history.empty()) {
      auto* note = statements_->get(
          "INSERT INTO lead_events (lead_seq, version, at_ms, actor, event) SELECT d.lead_seq, lc.version, ?1, "
          "'partner-center', ?2 FROM deliveries d JOIN lifecycle lc ON lc.seq = d.lead_seq WHERE d.id = ?3",
          error);
      if (note == nullptr) return false;
      sqlite3_bind_int64(note, 1, now_ms);
      bind(note, 2, a.history);
      sqlite3_bind_int64(note, 3, a.id);
      if (!step_once(statements_->db(), note, error)) return false;
    }
  }
  return true;
}

bool Transaction::remove_contact_data(std::int64_t seq, const std::string& lead_id, const std::string& person_prefix,
                                     std::int64_t now_ms, DeliveryTotals& cancelled, std::string& error, bool keys) {
  auto& s = *statements_;
  // What is cancelled leaves the backlog: counted before the rows change.
  auto* pending = s.get("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM deliveries WHERE state = 0 AND event_id IS NULL "
                        "AND (lead_seq = ?1 OR notification_id IN (SELECT id FROM notifications WHERE kind = 'digest' "
                        "AND instr(document, ?2) > 0))",
                        error);
  if (pending == nullptr) return false;
  sqlite3_bind_int64(pending, 1, seq);
  bind(pending, 2, lead_id);
  if (sqlite3_step(pending) == SQLITE_ROW) {
    cancelled.count += sqlite3_column_int64(pending, 0);
    cancelled.bytes += sqlite3_column_int64(pending, 1);
  }
  sqlite3_reset(pending);
  struct Step {
    const char* sql;
    int binds;  // 1: ?1 seq; 2: + ?2 lead id; 3: + ?3 person prefix; 4: + ?4 now
    bool key_table = false;
  };
  static constexpr Step kSteps[] = {
      {"UPDATE leads SET raw = X'', lead = '' WHERE seq = ?1", 1},
      {"UPDATE routed SET lead = json_set(lead, '$.contact.first_name', NULL, '$.contact.last_name', NULL, "
       "'$.contact.email', NULL, '$.contact.phone', NULL, '$.contact.title', NULL, '$.description', NULL, "
       "'$.email_check.normalized', NULL, '$.phone_check.e164', NULL, '$.phone_check.extension', NULL) "
       "WHERE seq = ?1 AND lead IS NOT NULL AND json_valid(lead)",
       1},
      {"UPDATE lifecycle SET msg_key = ?2, notes = NULL, contact_removed_at_ms = ?4 WHERE seq = ?1", 4},
      {"DELETE FROM replay_keys WHERE lead_id = ?2", 2, true},
      {"DELETE FROM person_keys WHERE first_lead_id = ?2 OR (?3 != '' AND substr(key, 1, length(?3)) = ?3)", 3, true},
      // Digests that list the lead lose their document (and their unsent mails): a digest is many people's.
      {"UPDATE deliveries SET state = 5, error = 'cancelled: a lead in it was erased' WHERE state = 0 AND "
       "notification_id IN (SELECT id FROM notifications WHERE kind = 'digest' AND instr(document, ?2) > 0)",
       2},
      {"UPDATE notifications SET document = NULL WHERE lead_seq = ?1 OR (kind = 'digest' AND instr(document, ?2) > 0)",
       2},
      // Nobody is told of it again: no digest lists it, no expiry warning names it.
      {"UPDATE notifications SET kind = 'erased' WHERE lead_seq = ?1 AND kind IN ('new_lead', 'hot', 'held', 'noted', "
       "'digested')",
       1},
      {"UPDATE deliveries SET state = CASE WHEN state = 0 AND event_id IS NULL THEN 5 ELSE state END, msg_key = ?2, "
       "error = CASE WHEN error IS NULL THEN NULL ELSE 'contact data erased' END WHERE lead_seq = ?1",
       2},
      {"UPDATE lead_events SET event = json_set(event, '$.changed.notes', NULL) WHERE lead_seq = ?1 AND "
       "json_valid(event) AND json_extract(event, '$.changed.notes') IS NOT NULL",
       1},
  };
  for (const auto& step : kSteps) {
    if (step.key_table && !keys) continue;
    auto* stmt = s.get(step.sql, error);
    if (stmt == nullptr) return false;
    sqlite3_bind_int64(stmt, 1, seq);
    if (step.binds >= 2) bind(stmt, 2, lead_id);
    if (step.binds >= 3) bind(stmt, 3, person_prefix);
    if (step.binds >= 4) sqlite3_bind_int64(stmt, 4, now_ms);
    if (!step_once(s.db(), stmt, error)) return false;
  }
  return true;
}

bool Transaction::delete_lead(std::int64_t seq, std::string& error) {
  static constexpr const char* kSteps[] = {
      "DELETE FROM replay_keys WHERE lead_id = (SELECT lead_id FROM leads WHERE seq = ?1)",
      "DELETE FROM person_keys WHERE first_lead_id = (SELECT lead_id FROM leads WHERE seq = ?1)",
      "DELETE FROM deliveries WHERE lead_seq = ?1 AND state != 0",
      "DELETE FROM lead_events WHERE lead_seq = ?1",
      "DELETE FROM notifications WHERE lead_seq = ?1",
      "DELETE FROM lifecycle WHERE seq = ?1",
      "DELETE FROM routed WHERE seq = ?1",
      "DELETE FROM leads WHERE seq = ?1",
  };
  for (const char* sql : kSteps) {
    auto* stmt = statements_->get(sql, error);
    if (stmt == nullptr) return false;
    sqlite3_bind_int64(stmt, 1, seq);
    if (!step_once(statements_->db(), stmt, error)) return false;
  }
  return true;
}

bool Transaction::add_event_delivery(std::int64_t seq, std::int64_t event_id, std::string_view destination,
                                     std::string_view msg_key, std::int64_t bytes, std::string& error) {
  auto* insert = statements_->get(
      "INSERT INTO deliveries (lead_seq, destination, msg_key, bytes, event_id) VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (insert == nullptr) return false;
  sqlite3_bind_int64(insert, 1, seq);
  bind(insert, 2, destination);
  bind(insert, 3, msg_key);
  sqlite3_bind_int64(insert, 4, bytes);
  sqlite3_bind_int64(insert, 5, event_id);
  return step_once(statements_->db(), insert, error);
}

bool Transaction::set_cursor(std::string_view name, std::int64_t value, std::string& error) {
  auto* put = statements_->get("INSERT INTO cursors (name, value) VALUES (?1, ?2) "
                               "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                               error);
  if (put == nullptr) return false;
  bind(put, 1, name);
  sqlite3_bind_int64(put, 2, value);
  return step_once(statements_->db(), put, error);
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
  for (const char* sql : {"INSERT INTO deliveries (lead_seq, destination, msg_key, bytes, event_id, notification_id) "
                          "SELECT d.lead_seq, d.destination, d.msg_key, d.bytes, d.event_id, d.notification_id FROM "
                          "deliveries d WHERE " LEADRELAY_DEAD_LETTER_MATCH
                          " ORDER BY d.id",
                          "UPDATE deliveries AS d SET state = 4 WHERE " LEADRELAY_DEAD_LETTER_MATCH}) {
    auto* stmt = s.get(sql, error);
    if (stmt == nullptr) return false;
    bind_dead_letter_filter(stmt, filter);
    if (!step_once(s.db(), stmt, error)) return false;
  }
  return true;
}

bool Transaction::index_companies(std::int64_t seq, std::string& error) {
  auto& s = *statements_;
  auto* fill = s.get("INSERT INTO lifecycle_company (rowid, company) SELECT seq, company FROM lifecycle WHERE seq > "
                     "COALESCE((SELECT value FROM cursors WHERE name = 'company_index'), 0) AND seq <= ?1 AND "
                     "company IS NOT NULL",
                     error);
  auto* mark = s.get("INSERT INTO cursors (name, value) VALUES ('company_index', ?1) "
                     "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
                     error);
  if (fill == nullptr || mark == nullptr) return false;
  sqlite3_bind_int64(fill, 1, seq);
  if (!step_once(s.db(), fill, error)) return false;
  sqlite3_bind_int64(mark, 1, seq);
  return step_once(s.db(), mark, error);
}

std::optional<LeadRow> Transaction::lead(std::string_view lead_id, std::string& error) {
  auto* find = statements_->get(
      "SELECT lc.seq, lc.lead_id, lc.msg_key, lc.received_at_ms, lc.status, lc.version, lc.hot_until_ms, "
      "lc.expires_at_ms, lc.accepted_at_ms, lc.closed_at_ms, lc.deal, lc.reason, lc.notes, lc.favorite, NULL, "
      "lc.referral_id FROM lifecycle lc WHERE lc.seq = (SELECT seq FROM leads WHERE lead_id = ?1)",
      error);
  if (find == nullptr) return std::nullopt;
  bind(find, 1, lead_id);
  std::optional<LeadRow> row;
  const int rc = sqlite3_step(find);
  if (rc == SQLITE_ROW) row = detail::lead_row(find);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) error = sqlite3_errmsg(statements_->db());
  sqlite3_reset(find);
  return row;
}

bool Transaction::lead_destinations(std::int64_t seq, std::vector<std::string>& out, std::string& error) {
  auto* select = statements_->get("SELECT destinations FROM lifecycle WHERE seq = ?1", error);
  if (select == nullptr) return false;
  sqlite3_bind_int64(select, 1, seq);
  const int rc = sqlite3_step(select);
  std::string list = rc == SQLITE_ROW ? detail::column_string(select, 0) : std::string();
  sqlite3_reset(select);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    error = sqlite3_errmsg(statements_->db());
    return false;
  }
  for (std::size_t start = 0; start < list.size();) {
    const auto end = std::min(list.find('\n', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return true;
}

bool Transaction::record_change(std::int64_t seq, const model::Lifecycle& after, LeadEvent& event,
                                std::string_view msg_key, const std::vector<std::string>& destinations,
                                std::string& error) {
  auto& s = *statements_;
  auto* update = s.get("UPDATE lifecycle SET status = ?1, version = ?2, hot_until_ms = ?3, expires_at_ms = ?4, "
                       "accepted_at_ms = ?5, closed_at_ms = ?6, deal = ?7, reason = ?8, notes = ?9, favorite = ?10 "
                       "WHERE seq = ?11",
                       error);
  auto* insert_event = s.get(
      "INSERT INTO lead_events (lead_seq, version, at_ms, actor, event) VALUES (?1, ?2, ?3, ?4, ?5)", error);
  auto* delivery = s.get(
      "INSERT INTO deliveries (lead_seq, destination, msg_key, bytes, event_id) VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (update == nullptr || insert_event == nullptr || delivery == nullptr) return false;
  std::string deal;
  bind_lifecycle(update, after, deal);
  sqlite3_bind_int64(update, 11, seq);
  if (!step_once(s.db(), update, error)) return false;
  sqlite3_bind_int64(insert_event, 1, seq);
  sqlite3_bind_int64(insert_event, 2, event.version);
  sqlite3_bind_int64(insert_event, 3, event.at_ms);
  bind(insert_event, 4, event.actor);
  bind(insert_event, 5, event.json);
  if (!step_once(s.db(), insert_event, error)) return false;
  event.id = sqlite3_last_insert_rowid(s.db());
  for (const auto& d : destinations) {
    sqlite3_bind_int64(delivery, 1, seq);
    bind(delivery, 2, d);
    bind(delivery, 3, msg_key);
    sqlite3_bind_int64(delivery, 4, static_cast<std::int64_t>(event.json.size()));
    sqlite3_bind_int64(delivery, 5, event.id);
    if (!step_once(s.db(), delivery, error)) return false;
  }
  return true;
}

}  // namespace leadrelay::store
