// The store's typed reads and writes and its schema versions, without the daemon: what the pipeline, the delivery
// workers and the admin listener rely on.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "daemon/model/lead_id.hpp"
#include "daemon/store/insight_sql.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"
#include "daemon/store/schema.hpp"

namespace leadrelay::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("leadrelay-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Journal> open() {
    std::string error;
    auto j = Journal::open(dir_, {}, error);
    EXPECT_TRUE(j) << error;
    return j;
  }

  // Journals `n` leads and returns their ids, in seq order.
  std::vector<std::string> append(Journal& j, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      std::promise<AppendResult> done;
      j.append(Entry{model::new_lead_id(1732320000000 + i), "mp", 1732320000000 + i, "{\"n\":" + std::to_string(i) + "}",
                     "ms-marketplace", {}, 0},
               [&](AppendResult r) { done.set_value(std::move(r)); });
      const auto r = done.get_future().get();
      EXPECT_EQ(r.status, AppendStatus::Committed);
      ids.push_back(r.lead_id);
    }
    return ids;
  }

  // Runs `write` in the writer's next transaction; whether it committed.
  static bool write(Journal& j, std::function<bool(Transaction&, std::string&)> write) {
    std::promise<bool> committed;
    j.submit(WriteJob{[&write](Transaction& tx, std::string& error) { return write(tx, error); },
                      [&](bool ok) { committed.set_value(ok); }});
    return committed.get_future().get();
  }

  int user_version() {
    sqlite3* db = nullptr;
    sqlite3_open_v2(database_path(dir_).c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
    sqlite3_step(stmt);
    const int v = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }

  std::filesystem::path dir_;
  std::string error_;
};

TEST_F(StoreTest, RoutingDeliveriesAcksAndDeadLettersThroughTypedCalls) {
  auto j = open();
  const auto ids = append(*j, 3);
  std::string error;
  auto reader = Reader::open(dir_, error);
  ASSERT_TRUE(reader) << error;
  std::vector<JournaledLead> leads;
  ASSERT_TRUE(reader->next_to_route(0, 64, leads, error)) << error;
  ASSERT_EQ(leads.size(), 3u);
  EXPECT_EQ(leads[0].lead_id, ids[0]);
  EXPECT_EQ(leads[1].raw, "{\"n\":1}");
  EXPECT_EQ(leads[2].format, "ms-marketplace");

  // The first two are routed to Kafka and a sink; the third is dropped.
  std::vector<RoutingRecord> records(3);
  for (int i = 0; i < 3; ++i) {
    auto& r = records[i];
    r.seq = leads[i].seq;
    r.lead_id = ids[i];
    r.lead_json = "{\"lead_id\":\"" + ids[i] + "\"}";
    r.source = "mp";
    r.action = "INS";
    r.msg_key = "person" + std::to_string(i) + "@contoso.com";
    r.state = i < 2 ? RoutingState::Routed : RoutingState::Dropped;
    r.outcome = i < 2 ? "routed" : "dropped by rule 'x': y";
    if (i < 2) r.destinations = {"kafka:leads.all", "sink:crm"};
    r.person_key = "p" + std::to_string(i);
    r.person = PersonRecord{ids[i], 1, {"INS"}, 1732320000000 + 14LL * 86400000};
  }
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) { return tx.record_routing(records, leads[2].seq, e); }));
  EXPECT_EQ(reader->pipeline_cursor(), leads[2].seq);
  EXPECT_EQ(reader->pending_totals(),
            (std::pair<std::int64_t, std::int64_t>{4, 4 * static_cast<std::int64_t>(records[0].lead_json.size())}));
  const auto person = reader->person("p1");
  ASSERT_TRUE(person);
  EXPECT_EQ(person->first_lead_id, ids[1]);
  EXPECT_EQ(person->actions, std::vector<std::string>{"INS"});
  EXPECT_FALSE(reader->person("nobody"));

  std::vector<PendingDelivery> kafka, crm;
  ASSERT_TRUE(reader->pending_kafka_deliveries(0, 100, kafka, error));
  ASSERT_TRUE(reader->pending_deliveries("sink:crm", 0, 100, crm, error));
  ASSERT_EQ(kafka.size(), 2u);
  ASSERT_EQ(crm.size(), 2u);
  EXPECT_EQ(kafka[0].destination, "kafka:leads.all");
  EXPECT_EQ(kafka[1].msg_key, "person1@contoso.com");
  EXPECT_EQ(crm[0].lead_json, records[0].lead_json);
  EXPECT_EQ(crm[1].action, "INS");
  std::vector<PendingDelivery> after;
  ASSERT_TRUE(reader->pending_deliveries("sink:crm", crm[0].id, 100, after, error));
  EXPECT_EQ(after.size(), 1u);  // after the cursor only

  // Kafka delivers both; the CRM refuses the first for good.
  std::vector<DeliveryAck> acks = {{kafka[0].id, kafka[0].bytes, {}},
                                   {kafka[1].id, kafka[1].bytes, {}},
                                   {crm[0].id, crm[0].bytes, "HTTP 400: bad field"}};
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) { return tx.ack_deliveries(acks, 1732330000000, e); }));
  kafka.clear();
  ASSERT_TRUE(reader->pending_kafka_deliveries(0, 100, kafka, error));
  EXPECT_TRUE(kafka.empty());
  const auto backlog = reader->backlog_by_destination();
  ASSERT_EQ(backlog.size(), 1u);
  EXPECT_EQ(backlog[0].destination, "sink:crm");
  EXPECT_EQ(backlog[0].deliveries, 1);

  auto dead = reader->dead_letters({"crm", 0});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].lead_id, ids[0]);
  EXPECT_EQ(dead[0].error, "HTTP 400: bad field");
  EXPECT_EQ(dead[0].failed_at_ms, 1732330000000);
  EXPECT_TRUE(reader->dead_letters({"kafka:leads.all", 0}).empty());
  const auto one = reader->dead_letter(dead[0].id);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->lead_json, records[0].lead_json);
  EXPECT_FALSE(reader->dead_letter(999999));

  // Replay: a fresh pending delivery, the dead letter marked replayed.
  std::int64_t count = 0, bytes = 0;
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) { return tx.replay_dead_letters({}, count, bytes, e); }));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(bytes, crm[0].bytes);
  EXPECT_TRUE(reader->dead_letters({}).empty());
  crm.clear();
  ASSERT_TRUE(reader->pending_deliveries("sink:crm", 0, 100, crm, error));
  ASSERT_EQ(crm.size(), 2u);
  EXPECT_EQ(crm[1].lead_id, ids[0]);  // the replayed one, after the other
}

// Lifecycle rows are written with their lead's routing, filtered and paged newest first, changed in place with an
// event and one delivery per destination, and read back by the expiry worker soonest first.
TEST_F(StoreTest, LifecyclesFiltersChangesAndEvents) {
  auto j = open();
  const auto ids = append(*j, 5);
  auto reader = Reader::open(dir_, error_);
  ASSERT_TRUE(reader);
  std::vector<JournaledLead> leads;
  ASSERT_TRUE(reader->next_to_route(0, 10, leads, error_));
  std::vector<RoutingRecord> records;
  for (std::size_t i = 0; i < leads.size(); ++i) {
    RoutingRecord r;
    r.seq = leads[i].seq;
    r.state = RoutingState::Routed;
    r.outcome = "routed";
    r.lead_id = leads[i].lead_id;
    r.lead_json = R"({"schema":"lead.v1","n":)" + std::to_string(i) + "}";
    r.msg_key = "person" + std::to_string(i) + "@contoso.com";
    r.destinations = {"kafka:leads.all", "sink:crm"};
    LifecycleRecord lc;
    lc.lifecycle.status = i % 2 == 0 ? model::Status::Received : model::Status::Informational;
    lc.lifecycle.received_at_ms = leads[i].received_at_ms;
    lc.lifecycle.expires_at_ms = i % 2 == 0 ? 5000 - static_cast<std::int64_t>(i) : 0;
    lc.lifecycle.hot_until_ms = i == 0 ? 10000 : 0;
    lc.country = i < 2 ? "US" : "DE";
    lc.company = i == 3 ? "Fabrikam 100% Ltd" : "Contoso";
    lc.quality = "High";
    r.lifecycle = lc;
    records.push_back(std::move(r));
  }
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) { return tx.record_routing(records, leads.back().seq, e); }));

  const auto list = [&](LeadFilter f) {
    std::vector<LeadRow> rows;
    EXPECT_TRUE(reader->leads(f, rows, error_)) << error_;
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.lead_id);
    return out;
  };
  EXPECT_EQ(list({}), (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));
  LeadFilter received;
  received.status = {"Received"};
  EXPECT_EQ(list(received), (std::vector<std::string>{ids[4], ids[2], ids[0]}));
  received.country = {"US", "FR"};
  EXPECT_EQ(list(received), (std::vector<std::string>{ids[0]}));
  LeadFilter customer;
  customer.customer = "100%";  // LIKE's wildcards are matched as themselves
  EXPECT_EQ(list(customer), (std::vector<std::string>{ids[3]}));
  customer.customer = "fabrikam";
  EXPECT_EQ(list(customer), (std::vector<std::string>{ids[3]}));
  // Found whether its company is in the trigram index yet or not (the index is filled in chunks).
  customer.customer = "contoso";
  const std::vector<std::string> contoso = {ids[4], ids[2], ids[1], ids[0]};
  EXPECT_EQ(list(customer), contoso);
  for (const auto upto : {leads[1].seq, leads[4].seq}) {
    ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) { return tx.index_companies(upto, e); }));
    EXPECT_EQ(reader->company_index_cursor(), upto);
    EXPECT_EQ(list(customer), contoso);
    customer.customer = "brikam 100";
    EXPECT_EQ(list(customer), (std::vector<std::string>{ids[3]}));
    customer.customer = "contoso";
  }
  LeadFilter hot;
  hot.hot = true;
  hot.now_ms = 9999;
  EXPECT_EQ(list(hot), (std::vector<std::string>{ids[0]}));
  hot.now_ms = 10000;
  EXPECT_TRUE(list(hot).empty());
  LeadFilter page;
  page.limit = 2;
  page.before_seq = leads[3].seq;
  EXPECT_EQ(list(page), (std::vector<std::string>{ids[2], ids[1]}));
  EXPECT_EQ(reader->count_leads(received), 1);
  EXPECT_EQ(reader->count_leads({}), 5);

  std::vector<LeadRow> due;
  ASSERT_TRUE(reader->waiting_leads(4998, 10, due, error_));
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].lead_id, ids[4]);  // soonest first
  EXPECT_EQ(due[1].lead_id, ids[2]);

  // A change: the row in place, one event, one delivery of it per destination given.
  LeadEvent event;
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) {
    auto row = tx.lead(ids[0], e);
    if (!row) return false;
    EXPECT_EQ(row->msg_key, "person0@contoso.com");
    std::vector<std::string> had;
    if (!tx.lead_destinations(row->seq, had, e)) return false;
    EXPECT_EQ(had, (std::vector<std::string>{"kafka:leads.all", "sink:crm"}));
    auto after = row->lifecycle;
    after.status = model::Status::Accepted;
    after.version = 2;
    after.deal.name = "Rollout";
    after.deal.value = 12.5;
    after.notes = "n";
    event = {0, 2, 42, "admin", R"({"schema":"lead-event.v1"})"};
    return tx.record_change(row->seq, after, event, row->msg_key, {"kafka:leads.events", "sink:crm"}, e);
  }));
  EXPECT_GT(event.id, 0);
  const auto row = reader->lead(ids[0]);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->lifecycle.status, model::Status::Accepted);
  EXPECT_EQ(row->lifecycle.version, 2);
  EXPECT_EQ(row->lifecycle.deal.value, 12.5);
  EXPECT_EQ(row->lead_json, R"({"schema":"lead.v1","n":0})");
  const auto history = reader->lead_history(row->seq);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].actor, "admin");
  std::vector<PendingDelivery> pending;
  ASSERT_TRUE(reader->pending_deliveries("sink:crm", 0, 100, pending, error_));
  ASSERT_EQ(pending.size(), 6u);
  EXPECT_TRUE(pending.back().event);
  EXPECT_EQ(pending.back().lead_json, R"({"schema":"lead-event.v1"})");
  EXPECT_EQ(pending.back().msg_key, "person0@contoso.com");
  EXPECT_FALSE(pending.front().event);
  pending.clear();
  ASSERT_TRUE(reader->pending_kafka_deliveries(0, 100, pending, error_));
  EXPECT_EQ(pending.back().destination, "kafka:leads.events");
}

// Rows of `sql` on the store in `dir`, each as its columns joined by '|'.
std::vector<std::string> rows_of(const std::filesystem::path& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(database_path(dir).c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db) << "\n" << sql;
  std::vector<std::string> out;
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const auto* text = sqlite3_column_text(stmt, i);
      row += (i > 0 ? "|" : "") + std::string(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    out.push_back(row);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The insight roll-ups hold, cell for cell, what counting the lifecycle rows afresh gives.
void expect_rollups_match_lifecycles(const std::filesystem::path& dir) {
  std::string key, fresh;
  for (const auto c : detail::kInsightKey) {
    key += (key.empty() ? "" : ", ") + std::string(c);
    fresh += (fresh.empty() ? "" : ", ") + detail::insight_key_sql("lc", c);
  }
  const auto m = detail::insight_measures("lc");  // the deal value as the REAL its roll-up column holds
  const auto counted = rows_of(dir, "SELECT " + fresh + ", COUNT(*), SUM(" + m[0] + ") + 0.0, SUM(" + m[1] +
                                        "), SUM(" + m[2] + ") FROM lifecycle lc GROUP BY " + fresh + " ORDER BY " +
                                        fresh);
  EXPECT_FALSE(counted.empty());
  EXPECT_EQ(rows_of(dir, "SELECT " + key + ", n, value, accept_ms, win_ms FROM insight_cells WHERE n <> 0 ORDER BY " +
                             key),
            counted);
  for (const auto& r : detail::kNarrowRollups) {
    std::string k;
    for (const auto c : detail::narrow_key(r)) k += (k.empty() ? "" : ", ") + std::string(c);
    EXPECT_EQ(rows_of(dir, "SELECT " + k + ", SUM(n) FROM " + std::string(r.table) + " GROUP BY " + k +
                               " HAVING SUM(n) <> 0 ORDER BY " + k),
              rows_of(dir, "SELECT " + k + ", SUM(n) FROM insight_cells GROUP BY " + k + " HAVING SUM(n) <> 0 ORDER BY " +
                               k))
        << r.table;
  }
  EXPECT_EQ(rows_of(dir, "SELECT action, SUM(n) FROM insight_acted GROUP BY action HAVING SUM(n) <> 0 ORDER BY 1"),
            rows_of(dir, "SELECT a, COUNT(*) FROM (SELECT 'accepted' AS a FROM lifecycle WHERE accepted_at_ms > 0 "
                         "UNION ALL SELECT lower(status) FROM lifecycle WHERE closed_at_ms > 0 AND status IN "
                         "('Declined', 'Won', 'Lost')) GROUP BY a ORDER BY 1"));
}

TEST_F(StoreTest, RoutingBatchesAddToTheInsightRollupsAsTheRowTriggerWould) {
  auto j = open();
  append(*j, 12);
  auto reader = Reader::open(dir_, error_);
  ASSERT_TRUE(reader);
  std::vector<JournaledLead> leads;
  ASSERT_TRUE(reader->next_to_route(0, 20, leads, error_));
  ASSERT_EQ(leads.size(), 12u);
  const auto record = [&](std::size_t i) {
    RoutingRecord r;
    r.seq = leads[i].seq;
    r.state = RoutingState::Routed;
    r.outcome = "routed";
    r.lead_id = leads[i].lead_id;
    r.lead_json = R"({"schema":"lead.v1"})";
    r.msg_key = r.lead_id;
    LifecycleRecord lc;
    auto& l = lc.lifecycle;
    l.received_at_ms = leads[i].received_at_ms - static_cast<std::int64_t>(i % 3) * 40LL * 86400000;  // 3 months
    l.status = std::array{model::Status::Received, model::Status::Accepted, model::Status::Won,
                          model::Status::Declined}[i % 4];
    if (l.status != model::Status::Received && l.status != model::Status::Declined) {
      l.accepted_at_ms = l.received_at_ms + static_cast<std::int64_t>(i) * 86400000;
    }
    if (l.status == model::Status::Won || l.status == model::Status::Declined) {
      l.closed_at_ms = l.received_at_ms + 50LL * 86400000;
    }
    if (l.status == model::Status::Won) {
      l.deal.value = 100.0 * static_cast<double>(i);
      l.deal.currency = i % 8 == 2 ? "EUR" : "USD";
    }
    if (l.status == model::Status::Declined) l.reason = "NotAFit";
    lc.country = i % 3 == 0 ? "US" : "DE";
    lc.offer = i % 2 == 0 ? "contoso.app" : "";
    lc.program = i % 5 == 0 ? "co-sell" : "";
    lc.classification = i % 6 == 0 ? "referral" : "marketplace";
    lc.lead_type = "customer_inquiry";
    lc.call_to_action = "ContactMe";
    lc.lead_source = "AzureMarketplace";
    r.lifecycle = lc;
    return r;
  };
  std::vector<RoutingRecord> first, second;
  for (std::size_t i = 0; i < 7; ++i) first.push_back(record(i));
  // The second batch repeats two leads the first stored (a retried batch): the store keeps their rows as they were,
  // and they are not counted twice.
  for (std::size_t i = 5; i < 11; ++i) second.push_back(record(i));
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) { return tx.record_routing(first, leads[6].seq, e); }));
  expect_rollups_match_lifecycles(dir_);
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) { return tx.record_routing(second, leads[10].seq, e); }));
  expect_rollups_match_lifecycles(dir_);
  EXPECT_EQ(rows_of(dir_, "SELECT SUM(n) FROM insight_cells"), std::vector<std::string>{"11"});
  // Outside a routing batch, the row trigger adds a row that is stored some other way (here: by hand).
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(database_path(dir_).c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const auto insert = "INSERT INTO lifecycle (seq, lead_id, msg_key, received_at_ms, status, accepted_at_ms, "
                        "closed_at_ms, reason, country, classification) VALUES (" +
                        std::to_string(leads[11].seq) + ", '" + leads[11].lead_id + "', 'k', " +
                        std::to_string(leads[11].received_at_ms) + ", 'Lost', " +
                        std::to_string(leads[11].received_at_ms + 86400000) + ", " +
                        std::to_string(leads[11].received_at_ms + 9 * 86400000LL) +
                        ", 'Budget', 'FR', 'marketplace')";
    EXPECT_EQ(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  EXPECT_EQ(rows_of(dir_, "SELECT SUM(n) FROM insight_cells"), std::vector<std::string>{"12"});
  expect_rollups_match_lifecycles(dir_);
  // A change afterwards moves the lead between cells (the change trigger), and the marker is gone.
  ASSERT_TRUE(write(*j, [&](Transaction& tx, std::string& e) {
    auto row = tx.lead(leads[0].lead_id, e);
    if (!row) return false;
    auto after = row->lifecycle;
    after.status = model::Status::Won;
    after.accepted_at_ms = after.received_at_ms + 86400000;
    after.closed_at_ms = after.received_at_ms + 2 * 86400000;
    after.deal.value = 42;
    after.version = 2;
    LeadEvent event{0, 2, 42, "admin", R"({"schema":"lead-event.v1"})"};
    return tx.record_change(row->seq, after, event, row->msg_key, {}, e);
  }));
  expect_rollups_match_lifecycles(dir_);
  EXPECT_TRUE(rows_of(dir_, "SELECT * FROM cursors WHERE name = 'insight_batch'").empty());
}

TEST_F(StoreTest, AFailedWriteLeavesNothingBehind) {
  auto j = open();
  append(*j, 1);
  std::string error;
  auto reader = Reader::open(dir_, error);
  RoutingRecord r;
  r.seq = 1;
  r.destinations = {"kafka:t"};
  EXPECT_FALSE(write(*j, [&](Transaction& tx, std::string& e) {
    if (!tx.record_routing({&r, 1}, 1, e)) return false;
    e = "a later write of the same job failed";
    return false;
  }));
  EXPECT_EQ(reader->pipeline_cursor(), 0);
  EXPECT_EQ(reader->pending_totals().first, 0);
}

TEST_F(StoreTest, ANewStoreHasTheCurrentSchemaVersion) {
  open();
  EXPECT_EQ(user_version(), kSchemaVersion);
  StoreInfo info;
  std::string error;
  ASSERT_TRUE(read_store_info(dir_, info, error)) << error;
  EXPECT_EQ(info.schema_version, kSchemaVersion);
  EXPECT_GT(info.pages, 0);
  EXPECT_NE(format_store_info(info).find("schema version: " + std::to_string(kSchemaVersion) + " (current)"),
            std::string::npos);
}

TEST_F(StoreTest, AStoreOfRelease010IsMigratedInPlace) {
  std::filesystem::create_directories(dir_);
  std::ifstream fixture(std::string(LEADRELAY_SOURCE_DIR) + "/tests/integration/fixtures/store-0.1.0.sql");
  std::stringstream ddl;
  ddl << fixture.rdbuf();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(database_path(dir_).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, ddl.str().c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO leads (lead_id, source, received_at_ms, raw, lead, format) "
                             "VALUES ('01a20c55-14e2-70f7-b723-ad212abf2572', 'mp', 1, '{}', '', 'ms-marketplace')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(user_version(), 0);
  auto j = open();
  ASSERT_TRUE(j);
  EXPECT_EQ(user_version(), kSchemaVersion);
  std::string error;
  auto reader = Reader::open(dir_, error);
  std::vector<JournaledLead> leads;
  ASSERT_TRUE(reader->next_to_route(0, 10, leads, error));
  ASSERT_EQ(leads.size(), 1u);
  EXPECT_EQ(leads[0].lead_id, "01a20c55-14e2-70f7-b723-ad212abf2572");
  EXPECT_EQ(append(*j, 1).size(), 1u);  // and it takes new leads
}

TEST_F(StoreTest, AStoreNewerThanTheBinaryIsRefusedUntouched) {
  open().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(database_path(dir_).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  std::string error;
  bool too_new = false;
  EXPECT_FALSE(Journal::open(dir_, {}, error, &too_new));
  EXPECT_TRUE(too_new);
  EXPECT_NE(error.find("schema version 99, newer than this leadrelay"), std::string::npos) << error;
  EXPECT_EQ(user_version(), 99);
}

}  // namespace
}  // namespace leadrelay::store
