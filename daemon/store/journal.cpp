#include "daemon/store/journal.hpp"

#include <future>

#include "daemon/store/schema.hpp"
#include "daemon/store/sqlite.hpp"

#include "daemon/log/log.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::store {
namespace {
using config::KeySpec;
using config::KeyType;
using detail::exec;
using detail::kBusyTimeoutMs;

constexpr KeySpec kJournalKeys[] = {
    {"max_batch", KeyType::Integer, "512", "leads committed together in one transaction at most", false, 1, 100000},
    {"max_pending", KeyType::Integer, "10000",
     "leads waiting for a commit at most; past it intake answers 503 with Retry-After", false, 1, 10000000},
    {"max_store_bytes", KeyType::Size, "0",
     "size the store may grow to (0: until the disk is full); past it leads are answered 503 with Retry-After",
     false, 0, std::numeric_limits<std::int64_t>::max()},
    {"synchronous", KeyType::Enum, "full",
     "full: the intake log is fdatasync'd before leads are acknowledged, and each store commit fsync'd (survives "
     "power loss); normal: survives a crash of leadrelay but not of the machine",
     false, 0, 0, "full|normal"},
    {"log_segment_bytes", KeyType::Size, "64MiB",
     "the intake log (state_dir/intake-log) grows a segment to this size, in preallocated 1 MiB steps, then starts "
     "the next; a segment is deleted once all its leads are in the store",
     false, 1 << 20, 1ll << 40},
    {"log_max_bytes", KeyType::Size, "1GiB",
     "the intake log's most: leads durable but not yet moved into the store; past it intake answers 503 with "
     "Retry-After",
     false, 1 << 20, std::numeric_limits<std::int64_t>::max()},
};

// After each commit, with the number of frames in the WAL. SQLite's own automatic checkpoint is PASSIVE: it
// copies what no reader still needs and the next write starts the WAL over only when no reader is in it. The
// routing and delivery threads read all the time under load, so that moment rarely comes: the WAL grew to 42 MiB
// with 105,000 leads routed behind a stopped broker (6 MiB with this), and every commit past 1,000 frames ran a
// checkpoint (with its fsync). Past kWalRestartFrames this waits for the readers' short transactions instead
// (RESTART), so the WAL starts over; at most 50 ms, so that a reader left open (a sqlite3 shell) cannot stall
// intake, and then not again until the WAL has grown by another 1,000 frames.
constexpr int kWalCheckpointFrames = 1000;  // SQLite's default
constexpr int kWalRestartFrames = 8192;     // 32 MiB of 4 KiB pages
int checkpoint_after_commit(void* next_restart, sqlite3* db, const char* name, int frames) {
  auto& restart_at = *static_cast<int*>(next_restart);
  if (frames < kWalRestartFrames) restart_at = kWalRestartFrames;  // the WAL started over
  if (frames >= restart_at) {
    sqlite3_busy_timeout(db, 50);
    const int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    restart_at = rc == SQLITE_OK ? kWalRestartFrames : frames + kWalCheckpointFrames;
  } else if (frames >= kWalCheckpointFrames) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;
}

}  // namespace

std::span<const KeySpec> journal_keys() { return kJournalKeys; }

JournalConfig parse_journal_config(config::MapReader& r) {
  JournalConfig c;
  c.max_batch = static_cast<std::uint64_t>(r.integer("max_batch"));
  c.max_pending = static_cast<std::uint64_t>(r.integer("max_pending"));
  c.max_store_bytes = r.size("max_store_bytes");
  c.synchronous_full = r.enumeration("synchronous") == "full";
  c.log_segment_bytes = r.size("log_segment_bytes");
  c.log_max_bytes = r.size("log_max_bytes");
  return c;
}

std::unique_ptr<Journal> Journal::open(const std::filesystem::path& state_dir, const JournalConfig& config,
                                       std::string& error, bool* too_new) {
  std::error_code ec;
  if (!std::filesystem::exists(state_dir, ec)) {
    std::filesystem::create_directories(state_dir, ec);
    if (ec) {
      error = "cannot create state_dir '" + state_dir.string() + "': " + ec.message();
      return nullptr;
    }
    // Leads are personal data: only the service's own user may read them.
    std::filesystem::permissions(state_dir, std::filesystem::perms::owner_all, ec);
  }
  const auto path = database_path(state_dir);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    error = "cannot open the store '" + path.string() + "': " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return nullptr;
  }
  // A 32 MiB page cache keeps the key indexes' upper levels in memory: with a million redelivery keys it takes
  // lookups from ~160k/s to ~360k/s (tests/bench/dedup_bench) for a bounded cost in RSS.
  // SQLite's default 4 KiB pages: 16 KiB ones cut the write(2) calls of a big group commit, but a commit of one
  // lead then writes ~128 KiB of WAL (each touched page whole), and at low rates that is every commit.
  const std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                              (config.synchronous_full ? "FULL" : "NORMAL") +
                              // Deleted and overwritten content is zeroed, so erased contact data leaves the file.
                              "; PRAGMA cache_size=-32768; PRAGMA secure_delete=ON;";
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // The schema first: a store newer than this binary is refused before anything (journal mode included) is set.
  if (const auto migrated = migrate(db, error); migrated != MigrateResult::Ok) {
    if (too_new != nullptr) *too_new = migrated == MigrateResult::TooNew;
    error = "cannot open the store '" + path.string() + "': " + error;
    sqlite3_close(db);
    return nullptr;
  }
  if (!exec(db, pragmas.c_str(), error)) {
    error = "cannot prepare the store '" + path.string() + "': " + error;
    sqlite3_close(db);
    return nullptr;
  }
  if (config.max_store_bytes > 0) {
    // SQLite refuses to grow the database past max_page_count with SQLITE_FULL, just as on a full disk.
    const auto page_size = detail::query_int(db, "PRAGMA page_size", 4096);
    const auto pages = std::max<std::uint64_t>(1, config.max_store_bytes / static_cast<std::uint64_t>(page_size));
    const auto limit = "PRAGMA max_page_count=" + std::to_string(pages) + ";";
    if (!exec(db, limit.c_str(), error)) {
      error = "cannot prepare the store '" + path.string() + "': " + error;
      sqlite3_close(db);
      return nullptr;
    }
  }
  std::unique_ptr<Journal> journal(new Journal(db, config));
  sqlite3_wal_hook(db, checkpoint_after_commit, &journal->wal_restart_at_);  // replaces the automatic checkpoint
  if (sqlite3_prepare_v3(db,
                         detail::kInsertLeadSql,
                         -1, SQLITE_PREPARE_PERSISTENT, &journal->insert_, nullptr) != SQLITE_OK) {
    error = std::string("cannot prepare the store: ") + sqlite3_errmsg(db);
    return nullptr;
  }
  if (sqlite3_prepare_v3(db, "SELECT lead_id, expires_ms FROM replay_keys WHERE key = ?1", -1,
                         SQLITE_PREPARE_PERSISTENT, &journal->replay_find_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(db, detail::kPutReplayKeySql, -1,
                         SQLITE_PREPARE_PERSISTENT, &journal->replay_put_, nullptr) != SQLITE_OK) {
    error = std::string("cannot prepare the store: ") + sqlite3_errmsg(db);
    return nullptr;
  }
  journal->committed_seq_ = detail::query_int(db, "SELECT COALESCE(MAX(seq), 0) FROM leads");
  // Background: senders wait for the intake log, not for this thread, so under a burst it yields the CPU to them.
  journal->writer_ = util::background_thread("lr-journal", [j = journal.get()] { j->run(); });
  return journal;
}

Journal::Journal(sqlite3* db, const JournalConfig& config)
    : db_(db), transaction_(std::make_unique<Transaction>(db)), config_(config) {}

Journal::~Journal() {
  stop();
  sqlite3_finalize(insert_);
  sqlite3_finalize(replay_find_);
  sqlite3_finalize(replay_put_);
  transaction_.reset();
  sqlite3_close(db_);
}

void Journal::append(Entry entry, Completion done) {
  AppendStatus refused = AppendStatus::Overloaded;
  {
    std::lock_guard lock(mutex_);
    if (stop_requested_) {
      refused = AppendStatus::Stopped;
    } else if (queue_.size() < config_.max_pending) {
      queue_.push_back(Pending{std::move(entry), std::move(done), {}});
      wake_.notify_one();
      return;
    }
  }
  done(AppendResult{refused, {}});
}

void Journal::submit(WriteJob job) {
  {
    std::lock_guard lock(mutex_);
    if (!stop_requested_) {
      jobs_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  job.done(false);
}

bool Journal::write(util::UniqueFunction<bool(Transaction& tx, std::string& error)> apply) {
  std::promise<bool> committed;
  auto done = committed.get_future();
  submit(WriteJob{std::move(apply), [&committed](bool ok) { committed.set_value(ok); }});
  return done.get();
}

bool Journal::wait_committed_after(std::int64_t seq, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return committed_.wait_for(lock, timeout, [&] { return committed_seq_.load() > seq || stop_requested_; }) &&
         committed_seq_.load() > seq;
}

void Journal::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stop_requested_) return;
    stop_requested_ = true;
    stopping_ = true;
  }
  wake_.notify_one();
  committed_.notify_all();
  if (writer_.joinable()) writer_.join();
}

JournalStats Journal::stats() const {
  JournalStats s;
  s.commits = commits_.load();
  s.entries = entries_.load();
  s.failures = failures_.load();
  std::lock_guard lock(mutex_);
  s.pending = queue_.size();
  return s;
}

void Journal::run() {
  std::deque<Pending> batch;
  std::deque<WriteJob> jobs;
  for (;;) {
    bool idle = false;
    {
      std::unique_lock lock(mutex_);
      const auto ready = [&] {
        return !queue_.empty() || !jobs_.empty() || !truncations_waiting_.empty() || stop_requested_;
      };
      if (truncations_.empty() && truncations_waiting_.empty()) {
        wake_.wait(lock, ready);
      } else {
        wake_.wait_for(lock, std::chrono::milliseconds(20), ready);  // retry a WAL truncation readers held up
      }
      for (auto& t : truncations_waiting_) truncations_.push_back(std::move(t));
      truncations_waiting_.clear();
      if (queue_.empty() && jobs_.empty()) {
        if (stop_requested_) {  // everything queued is committed
          for (auto& t : truncations_) t.done(false);
          return;
        }
        idle = true;
      }
      const auto n = std::min<std::size_t>(queue_.size(), config_.max_batch);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      jobs.swap(jobs_);
    }
    if (idle) {
      truncate_wal_now();
      continue;
    }
    const auto started = std::chrono::steady_clock::now();
    auto status = commit(batch, jobs);
    bool jobs_committed = status == AppendStatus::Committed;
    if (status == AppendStatus::Failed && !jobs.empty() && !batch.empty()) {
      // Intake must not depend on internal work: if a routing result or an acknowledgement made the
      // transaction fail, store the leads alone; the jobs' owners retry their part.
      std::deque<WriteJob> none;
      status = commit(batch, none);
    }
    for (auto& p : batch) {
      if (status == AppendStatus::Committed && !p.duplicate_of.empty()) {
        p.done(AppendResult{AppendStatus::Duplicate, std::move(p.duplicate_of)});
      } else {
        p.done(AppendResult{status, status == AppendStatus::Committed ? p.entry.lead_id : std::string()});
      }
    }
    for (auto& j : jobs) j.done(jobs_committed);
    if (status == AppendStatus::Committed) {
      metrics::Metrics::get().journal_commit(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), batch.size());
    }
    if (status == AppendStatus::Committed && batch_last_seq_ > committed_seq_.load()) {
      {
        std::lock_guard lock(mutex_);
        committed_seq_.store(batch_last_seq_);
      }
      committed_.notify_all();
    }
    batch.clear();
    jobs.clear();
    truncate_wal_now();
  }
}

void Journal::truncate_wal(util::UniqueFunction<void(bool)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stop_requested_) {
      truncations_waiting_.push_back({std::move(done), std::chrono::steady_clock::now() + std::chrono::seconds(10)});
      wake_.notify_one();
      return;
    }
  }
  done(false);
}

void Journal::set_truncate_hook(util::UniqueFunction<void(util::UniqueFunction<void(bool)>)> hook) {
  truncate_hook_ = std::move(hook);
}

void Journal::truncate_wal_now() {
  if (truncations_.empty()) return;
  // Never wait for readers here (intake waits on this thread): a reader in the way makes it try again soon.
  sqlite3_busy_timeout(db_, 0);
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db_, detail::kBusyTimeoutMs);
  const auto now = std::chrono::steady_clock::now();
  std::deque<Truncation> left;
  for (auto& t : truncations_) {
    if (rc == SQLITE_OK) {
      if (truncate_hook_) {
        truncate_hook_(std::move(t.done));
      } else {
        t.done(true);
      }
    } else if (now >= t.deadline) {
      log::warn("wal_truncate_failed", {{"message", std::string(sqlite3_errstr(rc))},
                                        {"hint", "a long read held the WAL; the next erasure or checkpoint folds it"}});
      t.done(false);
    } else {
      left.push_back(std::move(t));
    }
  }
  truncations_.swap(left);
}

AppendStatus Journal::commit(std::deque<Pending>& batch, std::deque<WriteJob>& jobs) {
  std::string error;
  std::int64_t inserted_seq = 0;  // the last lead row this transaction wrote
  std::uint64_t inserted = 0;
  bool ok = exec(db_, "BEGIN IMMEDIATE", error);
  for (auto it = batch.begin(); ok && it != batch.end(); ++it) {
    const auto& e = it->entry;
    it->duplicate_of.clear();
    if (!e.replay_key.empty()) {
      // The single writer sees every earlier entry of this batch too: two identical deliveries arriving at
      // the same instant become one lead.
      sqlite3_bind_text(replay_find_, 1, e.replay_key.data(), static_cast<int>(e.replay_key.size()), SQLITE_STATIC);
      if (sqlite3_step(replay_find_) == SQLITE_ROW && sqlite3_column_int64(replay_find_, 1) > e.received_at_ms) {
        it->duplicate_of = reinterpret_cast<const char*>(sqlite3_column_text(replay_find_, 0));
      }
      sqlite3_reset(replay_find_);
      if (!it->duplicate_of.empty()) continue;
      sqlite3_bind_text(replay_put_, 1, e.replay_key.data(), static_cast<int>(e.replay_key.size()), SQLITE_STATIC);
      sqlite3_bind_text(replay_put_, 2, e.lead_id.data(), static_cast<int>(e.lead_id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(replay_put_, 3, e.replay_expires_ms);
      if (sqlite3_step(replay_put_) != SQLITE_DONE) {
        error = sqlite3_errmsg(db_);
        ok = false;
      }
      sqlite3_reset(replay_put_);
    }
    sqlite3_bind_text(insert_, 1, e.lead_id.data(), static_cast<int>(e.lead_id.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 2, e.source.data(), static_cast<int>(e.source.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert_, 3, e.received_at_ms);
    sqlite3_bind_blob(insert_, 4, e.raw.data(), static_cast<int>(e.raw.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 5, e.format.data(), static_cast<int>(e.format.size()), SQLITE_STATIC);
    if (sqlite3_step(insert_) != SQLITE_DONE) {
      error = sqlite3_errmsg(db_);
      ok = false;
    } else if (sqlite3_changes(db_) == 0) {
      // Already stored (moved again from the intake log after a crash): nothing to do.
    } else {
      inserted_seq = sqlite3_last_insert_rowid(db_);
      ++inserted;
    }
    sqlite3_reset(insert_);
  }
  sqlite3_clear_bindings(insert_);
  // Expired redelivery keys go in small slices, at most once a second, so no commit is held up by a big delete.
  if (ok && !batch.empty() && batch.back().entry.received_at_ms - last_prune_ms_ > 1000) {
    last_prune_ms_ = batch.back().entry.received_at_ms;
    const auto prune = "DELETE FROM replay_keys WHERE key IN (SELECT key FROM replay_keys WHERE expires_ms <= " +
                       std::to_string(last_prune_ms_) + " LIMIT 1000)";
    ok = exec(db_, prune.c_str(), error);
  }
  for (auto it = jobs.begin(); ok && it != jobs.end(); ++it) ok = it->apply(*transaction_, error);
  if (ok) ok = exec(db_, "COMMIT", error);
  if (!ok) {
    std::string ignored;
    exec(db_, "ROLLBACK", ignored);
    failures_.fetch_add(1);
    if (healthy_.exchange(false)) {
      log::error("journal_commit_failed",
                 {{"message", error}, {"leads", static_cast<std::int64_t>(batch.size())},
                  {"hint", "leads are answered 503 until the store accepts writes again; check free space"}});
    }
    return AppendStatus::Failed;
  }
  if (inserted_seq > 0) batch_last_seq_ = inserted_seq;
  if (!healthy_.exchange(true)) log::info("journal_recovered");
  commits_.fetch_add(1);
  entries_.fetch_add(inserted);
  return AppendStatus::Committed;
}

}  // namespace leadrelay::store
