#pragma once
// The journal: the store's one writer. Every lead lands here: intake's through the intake log (intake_log.hpp, which
// answers the sender once the lead is durable in the log and then moves it here), the referral poller's directly.
// An embedded SQLite database (WAL mode, synchronous=FULL) under state_dir with one writer thread. Appends
// queue up; the writer takes everything queued, commits it in one transaction (one fsync), then completes each
// append. While one commit's fsync runs, the next batch gathers, so concurrent appends share fsyncs without a
// timer, and a lone one is never held back waiting for one. Appending a lead id the store already has is a no-op
// that completes Committed: the intake log moves again, after a crash, what it may have moved before.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "daemon/config/yaml_reader.hpp"
#include "daemon/store/transaction.hpp"
#include "daemon/util/unique_function.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace leadrelay::store {

struct JournalConfig {
  std::uint64_t max_batch = 512;
  std::uint64_t max_pending = 10000;
  std::uint64_t max_store_bytes = 0;  // 0: no budget but the disk
  bool synchronous_full = true;
  std::uint64_t log_segment_bytes = 64u << 20;  // the intake log's segments grow to this, then a new one starts
  std::uint64_t log_max_bytes = 1u << 30;       // the intake log's most; past it intake answers 503 (overloaded)
  bool operator==(const JournalConfig&) const = default;
};

std::span<const config::KeySpec> journal_keys();
JournalConfig parse_journal_config(config::MapReader& reader);

struct Entry {
  std::string lead_id;
  std::string source;
  std::int64_t received_at_ms = 0;
  std::string raw;     // the body exactly as received
  std::string format;  // the source's format, with which the pipeline maps `raw` (intake::map_journaled)
  // Redelivery detection: a delivery with the same key before `replay_expires_ms` is the same lead. Empty: none.
  std::string replay_key;
  std::int64_t replay_expires_ms = 0;
};

enum class AppendStatus {
  Committed,   // durable: the sender may be answered 2xx
  Duplicate,   // a redelivery of a lead already stored (its id is in the result); nothing written
  Overloaded,  // too many appends waiting; nothing written
  Failed,      // the store refused the write (disk full, I/O error); nothing written
  Stopped,     // the journal is shutting down; nothing written
};

struct JournalStats {
  std::uint64_t commits = 0;
  std::uint64_t entries = 0;
  std::uint64_t failures = 0;
  std::uint64_t pending = 0;
};

// An internal write (routing results, delivery acknowledgements) that the writer runs inside its next
// transaction, beside intake appends, so it shares their commit. `apply` returns false with a message to
// roll the whole transaction back; `done` learns whether the transaction committed.
struct WriteJob {
  util::UniqueFunction<bool(Transaction& tx, std::string& error)> apply;
  util::UniqueFunction<void(bool committed)> done;
};

struct AppendResult {
  AppendStatus status = AppendStatus::Failed;
  std::string lead_id;  // Committed: the entry's own; Duplicate: the original lead's
  // The intake log answers all the leads of one write in a row, from its writer thread: true on each but the last,
  // so that a receiver can hand them to its thread at once instead of waking it for every one. A receiver that holds
  // answers until the last must hold every receiver's: the write's last answer may be another's.
  bool more = false;
};

class Journal {
 public:
  using Completion = util::UniqueFunction<void(AppendResult)>;

  // Opens (creating if needed) state_dir/leadrelay.db, brings its schema up to date (store/schema.hpp) and starts
  // the writer thread. Null with `error`; `too_new` is set when the store's schema is newer than this binary's.
  static std::unique_ptr<Journal> open(const std::filesystem::path& state_dir, const JournalConfig& config,
                                       std::string& error, bool* too_new = nullptr);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Thread-safe. `done` runs exactly once, on the writer thread, or at once on the caller's thread when
  // the journal is overloaded or stopped: it must not block, and should hand off to its own executor.
  void append(Entry entry, Completion done);

  // Queues an internal write; never refused for load (the caller bounds its own work). After stop(), `done`
  // gets false at once.
  void submit(WriteJob job);
  // The same, then waits for the transaction: true once `apply`'s writes are committed, false when they were rolled
  // back or the journal stopped. For worker threads (never the writer's own).
  bool write(util::UniqueFunction<bool(Transaction& tx, std::string& error)> apply);

  // Highest lead sequence number committed so far, and a wait for it to pass `seq` (or for stop / the timeout).
  std::int64_t committed_seq() const { return committed_seq_.load(); }
  bool wait_committed_after(std::int64_t seq, std::chrono::milliseconds timeout);

  // Folds the WAL into the database and truncates it to nothing once everything queued before is committed (so no
  // old page of erased data stays in it); `done(true)` then, `done(false)` when readers kept it busy for 10 s or the
  // journal stopped. Runs on the writer thread between transactions, never blocking intake on a reader.
  void truncate_wal(util::UniqueFunction<void(bool)> done);
  // Runs after every successful truncate_wal, before its `done`: the intake log drops its segments of leads already
  // in the store, so erased data leaves those files too. `hook` gets the done to call. Set once, before use.
  void set_truncate_hook(util::UniqueFunction<void(util::UniqueFunction<void(bool)>)> hook);

  // Commits everything already queued, completes it, and stops the writer. Later appends get Stopped.
  void stop();

  // False after a failed commit until a later one succeeds, or once stopped.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed) && !stopping_.load(); }
  JournalStats stats() const;

 private:
  struct Pending {
    Entry entry;
    Completion done;
    std::string duplicate_of;  // set in commit() when the entry is a redelivery
  };

  Journal(sqlite3* db, const JournalConfig& config);
  void run();
  AppendStatus commit(std::deque<Pending>& batch, std::deque<WriteJob>& jobs);
  void truncate_wal_now();

  struct Truncation {
    util::UniqueFunction<void(bool)> done;
    std::chrono::steady_clock::time_point deadline;
  };

  sqlite3* db_;
  std::unique_ptr<Transaction> transaction_;  // what write jobs get: the writer's connection, typed
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* replay_find_ = nullptr;
  sqlite3_stmt* replay_put_ = nullptr;
  std::int64_t last_prune_ms_ = 0;
  int wal_restart_at_ = 0;  // WAL frames past which the next commit restarts the WAL (checkpoint_after_commit)
  JournalConfig config_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::deque<WriteJob> jobs_;
  std::deque<Truncation> truncations_waiting_;  // under mutex_
  std::deque<Truncation> truncations_;          // writer thread only
  util::UniqueFunction<void(util::UniqueFunction<void(bool)>)> truncate_hook_;
  std::condition_variable committed_;
  std::atomic<std::int64_t> committed_seq_{0};
  std::int64_t batch_last_seq_ = 0;  // writer thread only
  bool stop_requested_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> healthy_{true};
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> entries_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::thread writer_;
};

}  // namespace leadrelay::store
