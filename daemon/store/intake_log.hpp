#pragma once
// The intake log: where an accepted lead is made durable before its sender is answered 2xx. An append-only file of
// framed records under state_dir/intake-log/, in segments (as etcd's WAL and LevelDB's log): one writer thread takes
// every lead waiting, writes them all with one write(2) and one fdatasync(2), then answers them. A mover thread,
// in the background, reads the log and moves the leads into the store (the Journal's SQLite database) in large
// transactions; a segment is deleted once everything in it is in the store. So the sender waits for a sequential
// append, never for SQLite's B-trees, and the store still holds every lead the rest of the daemon reads.
//
// A record is [u32 length][u32 CRC-32C of the length and the payload][payload], little-endian; the payload is a
// version byte, the offset where the record's write began, and one Entry (times, lead id, source, format,
// redelivery key, raw body). Segments grow in preallocated steps of zeros up
// to journal.log_segment_bytes, so a write inside a segment needs no new space, and a zero header marks the end.
//
// Redelivery keys: a key is inside its lead's record, so the two are durable together or not at all. The writer
// checks a new lead's key against the keys of leads still in the log (kept in memory, rebuilt from the log at
// start) and then against the store's, where the mover writes key and lead in one transaction.
//
// At start the log is read whole. A record that fails its check at the end of the last segment is a torn tail (a
// crash during a write that was never answered) when nothing after it comes from a later write (each record names
// where its write began) and nothing lies further than one write reaches: it is cut off, everything before it kept.
// Any other failure stops the start with the file, the byte and a hint.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "daemon/store/journal.hpp"

namespace leadrelay::store {

namespace intake_log {

constexpr std::size_t kHeaderBytes = 8;
constexpr std::uint32_t kMaxRecordBytes = (64u << 20) + (1u << 20);  // a 64 MiB body (server.max_body_bytes' most)
constexpr std::size_t kMaxWriteBytes = 4u << 20;  // one write holds at most this much, or a single larger record

// Appends `entry` as one framed record to `out`; `write_start` is the segment offset where the write holding it
// begins (the start tells a torn write from damage: see scan).
void encode(const Entry& entry, std::uint64_t write_start, std::string& out);
// One record's payload back into an entry (and the offset its write began at); false when its fields do not add up.
bool decode(std::string_view payload, Entry& entry, std::uint64_t* write_start);
// The payload length a record's header claims.
std::uint32_t record_length(const char* header);
// One whole framed record (header and payload): checked against its CRC, then decoded.
bool check_and_decode(std::string_view record, Entry& entry);

enum class ScanStatus { Clean, Torn, Corrupt };
struct ScanResult {
  ScanStatus status = ScanStatus::Clean;
  std::size_t valid_end = 0;  // where the last whole record ends: the next write's offset
  std::size_t records = 0;
  std::size_t dropped = 0;    // Torn: bytes from valid_end to the last non-zero byte
  std::string problem;        // Corrupt: what failed, and at which byte
};
// Walks the records in one segment's bytes, calling `record(offset, payload)` for each whole, checked one in order;
// `record` returns false when the payload does not decode (Corrupt).
// `last`: the segment that was being written, the only place a torn tail can be.
ScanResult scan(std::string_view bytes, bool last,
                const std::function<bool(std::size_t offset, std::string_view payload)>& record);

}  // namespace intake_log

struct IntakeLogStats {
  std::uint64_t appended = 0;  // leads written since start
  std::uint64_t writes = 0;    // write + fdatasync rounds
  std::uint64_t in_log = 0;    // leads in the log not yet moved into the store
  std::uint64_t bytes = 0;     // bytes of the live segments
  std::uint64_t segments = 0;
};

class IntakeLog {
 public:
  // Opens (creating if needed) state_dir/intake-log, reads it (truncating a torn tail), and starts the writer and the
  // mover, which first moves what an earlier run left in the log. Null with `error` when a segment is damaged or
  // the directory cannot be used.
  static std::unique_ptr<IntakeLog> open(const std::filesystem::path& state_dir, const JournalConfig& config,
                                         Journal& journal, std::string& error);
  ~IntakeLog();
  IntakeLog(const IntakeLog&) = delete;
  IntakeLog& operator=(const IntakeLog&) = delete;

  // As Journal::append: `done` runs once, on the writer thread after the fdatasync (Committed), or for a redelivery
  // (Duplicate, with the first lead's id), or when the log is full, failing or stopping; or at once on the caller's
  // thread when too many appends wait.
  void append(Entry entry, Journal::Completion done);

  // Answers what is queued and stops the writer; then the mover goes on moving for at most `move_for` (so a clean
  // stop usually leaves the store complete), and stops. What it did not move stays in the log for the next start.
  void stop(std::chrono::milliseconds move_for);

  // Closes the segment being written (the next write starts a new one) and calls `done(true)` once every segment
  // that held a lead at the call is deleted, i.e. moved into the store: so data erased from the store is in no
  // segment either. `done(false)` if the log stops first. Any thread.
  void retire(util::UniqueFunction<void(bool)> done);

  // False while the log's disk refuses writes, or the store does (then intake answers 503 either way).
  bool healthy() const;
  IntakeLogStats stats() const;

 private:
  struct Pending {
    Entry entry;
    Journal::Completion done;
  };
  struct Segment {
    std::uint64_t number = 0;
    std::uint64_t durable_end = 0;  // bytes of records written and synced
    std::uint64_t records = 0;      // records in it not yet moved
    bool sealed = false;            // no more writes: the writer went on to a newer segment
  };
  struct Retirement {
    std::uint64_t through = 0;  // done once no segment numbered up to this is left
    util::UniqueFunction<void(bool)> done;
  };
  // Where the newest lead with a redelivery key is in the log: the key itself is read back from its record when a
  // lead with the same key's hash arrives, so a million leads in the log cost ~56 bytes each here, not their keys.
  struct Key {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    std::int64_t expires_ms = 0;
  };

  IntakeLog(std::filesystem::path dir, const JournalConfig& config, Journal& journal);
  bool recover(std::string& error);
  void run_writer();
  void write_batch(std::deque<Pending>& batch);
  bool make_room(std::size_t bytes, std::string& error);
  bool find_key(const Entry& entry, std::string& lead_id);
  bool read_record(const Key& where, Entry& entry);  // writer thread
  void run_mover();
  std::deque<Retirement> retired(std::unique_lock<std::mutex>& lock);  // those now done (under mutex_)
  std::filesystem::path segment_path(std::uint64_t number) const;
  std::uint64_t leads_in_log() const;  // under mutex_: the segments' records not yet moved
  std::uint64_t bytes_in_log() const;  // under mutex_: the segments' durable bytes

  const std::filesystem::path dir_;
  const JournalConfig config_;
  Journal& journal_;
  sqlite3* keys_db_ = nullptr;  // read-only: redelivery keys already in the store
  sqlite3_stmt* key_find_ = nullptr;

  // Writer thread only.
  int fd_ = -1;                     // the segment being written
  std::uint64_t write_offset_ = 0;  // its durable end
  std::uint64_t allocated_ = 0;     // its size on disk (zeros past write_offset_)
  std::string buffer_;              // the batch's records, reused

  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable writer_wake_;
  std::condition_variable mover_wake_;
  std::condition_variable moved_;  // the mover took leads out of the log
  std::deque<Pending> queue_;
  std::deque<Segment> segments_;
  std::unordered_map<std::uint64_t, Key> keys_;  // by the key's hash: leads in the log, not yet in the store
  std::uint64_t appended_ = 0;
  std::uint64_t writes_ = 0;
  std::deque<Retirement> retirements_;
  bool seal_requested_ = false;  // retire(): the writer closes its segment
  bool stop_writer_ = false;
  bool stop_mover_ = false;
  bool log_healthy_ = true;
  bool moves_failing_ = false;  // the store refused the mover's last transaction (disk full): intake answers 503

  std::thread writer_;
  std::thread mover_;
};

}  // namespace leadrelay::store
