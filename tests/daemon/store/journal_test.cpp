// The journal: durable group commits, completion exactly once per append, refusal when full or stopped.
#include "daemon/store/journal.hpp"
#include "daemon/store/schema.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "daemon/model/lead_id.hpp"

namespace leadrelay::store {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("leadrelay-journal-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Journal> open(JournalConfig config = {}) {
    std::string error;
    auto j = Journal::open(dir_ / "state", config, error);
    EXPECT_TRUE(j) << error;
    return j;
  }

  static Entry entry(std::string raw = R"({"UserDetails":{}})") {
    return Entry{model::new_lead_id(1732320000000), "marketplace", 1732320000000, std::move(raw), "ms-marketplace", {}, 0};
  }

  // Rows in the store, read through a separate connection as an independent reader would.
  std::map<std::string, int> stored_ids() {
    std::map<std::string, int> ids;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(database_path(dir_ / "state").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT lead_id FROM leads", -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) ++ids[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))];
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return ids;
  }

  std::filesystem::path dir_;
};

// Collects completions and lets a test wait for a number of them.
struct Completions {
  std::mutex mutex;
  std::condition_variable cv;
  std::map<std::string, AppendStatus> by_id;
  std::map<std::string, int> calls;

  Journal::Completion track(const std::string& id) {
    return [this, id](AppendResult r) {
      std::lock_guard lock(mutex);
      by_id[id] = r.status;
      ++calls[id];
      cv.notify_all();
    };
  }
  void wait_for(std::size_t n) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return by_id.size() >= n; });
  }
};

TEST_F(JournalTest, CreatesPrivateStateDir) {
  auto j = open();
  const auto perms = std::filesystem::status(dir_ / "state").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
}

TEST_F(JournalTest, ConcurrentAppendsShareCommits) {
  auto j = open();
  Completions done;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::vector<std::thread> threads;
  std::mutex ids_mutex;
  std::vector<std::string> ids;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto e = entry();
        {
          std::lock_guard lock(ids_mutex);
          ids.push_back(e.lead_id);
        }
        const auto id = e.lead_id;
        j->append(std::move(e), done.track(id));
      }
    });
  }
  for (auto& t : threads) t.join();
  done.wait_for(kThreads * kPerThread);

  for (const auto& id : ids) {
    EXPECT_EQ(done.by_id[id], AppendStatus::Committed);
    EXPECT_EQ(done.calls[id], 1) << "each append completes exactly once";
  }
  const auto stats = j->stats();
  EXPECT_EQ(stats.entries, static_cast<std::uint64_t>(kThreads * kPerThread));
  // Group commit: far fewer transactions (fsyncs) than leads.
  EXPECT_LT(stats.commits, stats.entries / 4) << "commits=" << stats.commits;
  j.reset();

  const auto stored = stored_ids();
  EXPECT_EQ(stored.size(), ids.size());
  for (const auto& id : ids) EXPECT_EQ(stored.count(id), 1u);
}

TEST_F(JournalTest, CompletionComesOnlyAfterTheRowIsReadable) {
  auto j = open();
  auto e = entry();
  const auto id = e.lead_id;
  std::promise<AppendStatus> committed;
  j->append(std::move(e), [&](AppendResult r) { committed.set_value(r.status); });
  ASSERT_EQ(committed.get_future().get(), AppendStatus::Committed);
  // Another connection sees the row the moment the append completes.
  EXPECT_EQ(stored_ids().count(id), 1u);
}

TEST_F(JournalTest, StopCommitsWhatIsQueuedThenRefuses) {
  auto j = open();
  Completions done;
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto e = entry();
    ids.push_back(e.lead_id);
    j->append(std::move(e), done.track(ids.back()));
  }
  j->stop();
  for (const auto& id : ids) EXPECT_EQ(done.by_id[id], AppendStatus::Committed);
  std::promise<AppendStatus> late;
  j->append(entry(), [&](AppendResult r) { late.set_value(r.status); });
  EXPECT_EQ(late.get_future().get(), AppendStatus::Stopped);
  EXPECT_FALSE(j->healthy());
}

TEST_F(JournalTest, OverloadedWhenTooManyWait) {
  auto j = open(JournalConfig{1, 3, 0, true});  // max_batch 1, max_pending 3
  // Hold the database's write lock from another connection so the writer cannot commit.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(database_path(dir_ / "state").c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Completions done;
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    auto e = entry();
    ids.push_back(e.lead_id);
    j->append(std::move(e), done.track(ids.back()));
  }
  // At most one is in the writer's hands and three wait; the rest were refused at once.
  {
    std::lock_guard lock(done.mutex);
    EXPECT_GE(done.by_id.size(), 2u);
    for (const auto& [id, status] : done.by_id) EXPECT_EQ(status, AppendStatus::Overloaded);
  }
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  done.wait_for(ids.size());
  int committed = 0;
  for (const auto& id : ids) committed += done.by_id[id] == AppendStatus::Committed ? 1 : 0;
  EXPECT_GE(committed, 3);
  EXPECT_EQ(stored_ids().size(), static_cast<std::size_t>(committed));
}

TEST_F(JournalTest, FullStoreFailsCleanlyAndRecovers) {
  auto j = open(JournalConfig{512, 10000, 256 * 1024, true});
  const std::string big(16 * 1024, 'x');
  AppendStatus last = AppendStatus::Committed;
  int accepted = 0;
  for (int i = 0; i < 100 && last == AppendStatus::Committed; ++i) {
    std::promise<AppendStatus> p;
    j->append(entry(big), [&](AppendResult r) { p.set_value(r.status); });
    last = p.get_future().get();
    if (last == AppendStatus::Committed) ++accepted;
  }
  EXPECT_EQ(last, AppendStatus::Failed);
  EXPECT_FALSE(j->healthy());
  EXPECT_GT(accepted, 0);
  // Everything acknowledged is there; the refused lead is not.
  EXPECT_EQ(stored_ids().size(), static_cast<std::size_t>(accepted));
  // A small lead still fits in the last pages: the store is usable again once there is room.
  std::promise<AppendStatus> small;
  j->append(entry("{}"), [&](AppendResult r) { small.set_value(r.status); });
  EXPECT_EQ(small.get_future().get(), AppendStatus::Committed);
  EXPECT_TRUE(j->healthy());
}

TEST_F(JournalTest, RedeliveriesWithinTheWindowAreOneLead) {
  auto j = open();
  // 20 identical deliveries queued at once (they share batches): one lead, every answer carries its id.
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<AppendResult> results;
  std::string first_id;
  for (int i = 0; i < 20; ++i) {
    auto e = entry();
    if (i == 0) first_id = e.lead_id;
    e.replay_key = "marketplace|sha256:abc";
    e.replay_expires_ms = e.received_at_ms + 1000;
    j->append(std::move(e), [&](AppendResult r) {
      std::lock_guard lock(mutex);
      results.push_back(std::move(r));
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return results.size() == 20; });
  }
  int committed = 0;
  for (const auto& r : results) {
    committed += r.status == AppendStatus::Committed ? 1 : 0;
    EXPECT_EQ(r.lead_id, first_id);
    EXPECT_TRUE(r.status == AppendStatus::Committed || r.status == AppendStatus::Duplicate);
  }
  EXPECT_EQ(committed, 1);
  EXPECT_EQ(stored_ids().size(), 1u);

  // After the window the same delivery is a new lead.
  auto later = entry();
  later.received_at_ms += 1000;
  later.replay_key = "marketplace|sha256:abc";
  later.replay_expires_ms = later.received_at_ms + 1000;
  std::promise<AppendResult> p;
  j->append(std::move(later), [&](AppendResult r) { p.set_value(std::move(r)); });
  EXPECT_EQ(p.get_future().get().status, AppendStatus::Committed);
  EXPECT_EQ(stored_ids().size(), 2u);
}

TEST_F(JournalTest, ExpiredReplayKeysArePruned) {
  auto j = open();
  const auto append = [&](std::int64_t at, const std::string& key) {
    auto e = entry();
    e.received_at_ms = at;
    e.replay_key = key;
    e.replay_expires_ms = at + 1000;
    std::promise<AppendResult> p;
    j->append(std::move(e), [&](AppendResult r) { p.set_value(std::move(r)); });
    return p.get_future().get().status;
  };
  for (int i = 0; i < 50; ++i) ASSERT_EQ(append(1732320000000, "old-" + std::to_string(i)), AppendStatus::Committed);
  const auto keys = [&] {
    sqlite3* db = nullptr;
    sqlite3_open_v2(database_path(dir_ / "state").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM replay_keys", -1, &stmt, nullptr);
    sqlite3_step(stmt);
    const auto n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  };
  EXPECT_EQ(keys(), 50);
  // A lead arriving after those keys' expiry clears them out; its own key stays.
  ASSERT_EQ(append(1732320000000 + 60000, "new"), AppendStatus::Committed);
  EXPECT_EQ(keys(), 1);
}

TEST_F(JournalTest, AKeyIsNotSeenWhenItsLeadWasNotStored) {
  auto j = open(JournalConfig{512, 10000, 64 * 1024, true});
  auto big = entry(std::string(80 * 1024, 'x'));
  big.replay_key = "k";
  big.replay_expires_ms = big.received_at_ms + 100000;
  std::promise<AppendResult> p1;
  j->append(std::move(big), [&](AppendResult r) { p1.set_value(std::move(r)); });
  EXPECT_EQ(p1.get_future().get().status, AppendStatus::Failed);
  // The same key again (a retry after the 503) must be stored, not answered as a duplicate of nothing.
  auto retry = entry("{}");
  retry.replay_key = "k";
  retry.replay_expires_ms = retry.received_at_ms + 100000;
  std::promise<AppendResult> p2;
  j->append(std::move(retry), [&](AppendResult r) { p2.set_value(std::move(r)); });
  EXPECT_EQ(p2.get_future().get().status, AppendStatus::Committed);
}

TEST_F(JournalTest, AFailingInternalJobNeverFailsIntake) {
  auto j = open();
  // A first job holds the writer inside its transaction until the failing job and the append are both queued,
  // so those two share the next transaction.
  std::promise<void> holding;
  std::promise<void> release;
  auto released = release.get_future().share();
  j->submit(WriteJob{[&holding, released](Transaction&, std::string&) {
                       holding.set_value();
                       released.wait();
                       return true;
                     },
                     [](bool) {}});
  holding.get_future().wait();
  std::promise<bool> job_done;
  j->submit(WriteJob{[](Transaction&, std::string& error) {
                       error = "a broken job";
                       return false;
                     },
                     [&](bool ok) { job_done.set_value(ok); }});
  std::promise<AppendResult> appended;
  j->append(entry(), [&](AppendResult r) { appended.set_value(std::move(r)); });
  release.set_value();
  EXPECT_FALSE(job_done.get_future().get());
  EXPECT_EQ(appended.get_future().get().status, AppendStatus::Committed);
  EXPECT_EQ(stored_ids().size(), 1u);
}

TEST_F(JournalTest, ReopenKeepsEverything) {
  std::vector<std::string> ids;
  {
    auto j = open();
    Completions done;
    for (int i = 0; i < 50; ++i) {
      auto e = entry();
      ids.push_back(e.lead_id);
      j->append(std::move(e), done.track(ids.back()));
    }
    done.wait_for(ids.size());
  }
  auto j = open();
  EXPECT_EQ(stored_ids().size(), ids.size());
}

TEST_F(JournalTest, UnwritableStateDirIsAClearError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  std::string error;
  auto j = Journal::open(dir_ / "file" / "state", {}, error);
  EXPECT_FALSE(j);
  EXPECT_NE(error.find("cannot create state_dir"), std::string::npos) << error;
}

// Readers that never pause (the routing and delivery threads under load) used to keep SQLite's passive checkpoint
// from ever starting the WAL over, so it grew with everything written. Past 32 MiB the journal now waits briefly
// for them and the WAL starts over: with 80 MiB written under a reader that never stops, it stays near 32 MiB.
TEST_F(JournalTest, WalStartsOverUnderContinuousReaders) {
  JournalConfig config;
  config.max_pending = 100000;
  auto j = open(config);
  std::atomic<bool> stop{false};
  // Two readers reading batches of 64 rows back to back, as the routing and delivery threads do under load: at
  // almost every moment one of them is inside a read transaction.
  const auto read_all_the_time = [&] {
    sqlite3* db = nullptr;
    sqlite3_open_v2(database_path(dir_ / "state").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT length(raw) FROM leads ORDER BY seq DESC LIMIT 64", -1, &stmt, nullptr);
    while (!stop.load()) {
      while (!stop.load() && sqlite3_step(stmt) == SQLITE_ROW) {
      }
      sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  };
  std::thread reader(read_all_the_time);
  std::thread second_reader(read_all_the_time);
  Completions done;
  const std::string body = R"({"UserDetails":{"Description":")" + std::string(2000, 'x') + R"("}})";
  constexpr int kEntries = 40000;
  std::uintmax_t largest_wal = 0;
  const auto wal = database_path(dir_ / "state").string() + "-wal";
  for (int i = 0; i < kEntries; ++i) {
    auto e = entry(body);
    const auto id = e.lead_id;
    j->append(std::move(e), done.track(id));
    if (i % 1000 == 999) {
      done.wait_for(static_cast<std::size_t>(i + 1));
      std::error_code ec;
      largest_wal = std::max<std::uintmax_t>(largest_wal, std::filesystem::file_size(wal, ec));
    }
  }
  done.wait_for(kEntries);
  stop = true;
  reader.join();
  second_reader.join();
  for (const auto& [id, status] : done.by_id) ASSERT_EQ(status, AppendStatus::Committed);
  EXPECT_LT(largest_wal, 48u << 20) << "the WAL grew with the data (" << kEntries * body.size() / (1 << 20)
                                    << " MiB written) instead of starting over";
}

}  // namespace
}  // namespace leadrelay::store
