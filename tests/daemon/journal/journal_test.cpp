// The journal: durable group commits, completion exactly once per append, refusal when full or stopped.
#include "daemon/journal/journal.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "daemon/model/lead_id.hpp"

namespace leadrelay::journal {
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
    return Entry{model::new_lead_id(1732320000000), "marketplace", 1732320000000, std::move(raw), "{}"};
  }

  // Rows in the store, read through a separate connection as an independent reader would.
  std::map<std::string, int> stored_ids() {
    std::map<std::string, int> ids;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(Journal::database_path(dir_ / "state").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
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
    return [this, id](AppendStatus s) {
      std::lock_guard lock(mutex);
      by_id[id] = s;
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
  j->append(std::move(e), [&](AppendStatus s) { committed.set_value(s); });
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
  j->append(entry(), [&](AppendStatus s) { late.set_value(s); });
  EXPECT_EQ(late.get_future().get(), AppendStatus::Stopped);
  EXPECT_FALSE(j->healthy());
}

TEST_F(JournalTest, OverloadedWhenTooManyWait) {
  auto j = open(JournalConfig{1, 3, 0, true});
  // Hold the database's write lock from another connection so the writer cannot commit.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(Journal::database_path(dir_ / "state").c_str(), &blocker), SQLITE_OK);
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
    j->append(entry(big), [&](AppendStatus s) { p.set_value(s); });
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
  j->append(entry("{}"), [&](AppendStatus s) { small.set_value(s); });
  EXPECT_EQ(small.get_future().get(), AppendStatus::Committed);
  EXPECT_TRUE(j->healthy());
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

}  // namespace
}  // namespace leadrelay::journal
