#include "daemon/store/intake_log.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "daemon/log/log.hpp"
#include "daemon/store/crc32c.hpp"
#include "daemon/store/schema.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::store {
namespace intake_log {
namespace {

constexpr unsigned char kVersion = 1;

void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out.append(b, 4);
}
void put_i64(std::string& out, std::int64_t value) {
  const auto v = static_cast<std::uint64_t>(value);
  put_u32(out, static_cast<std::uint32_t>(v));
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
}
void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}
std::uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(u[0]) | static_cast<std::uint32_t>(u[1]) << 8 |
         static_cast<std::uint32_t>(u[2]) << 16 | static_cast<std::uint32_t>(u[3]) << 24;
}

// The checksum covers the length too, so a torn or flipped length is caught like a torn payload.
std::uint32_t record_crc(const char* length_field, std::string_view payload) {
  return crc32c(crc32c(0, length_field, 4), payload.data(), payload.size());
}

struct PayloadReader {
  std::string_view in;
  bool ok = true;
  std::uint32_t u32() {
    if (in.size() < 4) return ok = false, 0;
    const auto v = get_u32(in.data());
    in.remove_prefix(4);
    return v;
  }
  std::int64_t i64() {
    const std::uint64_t lo = u32();
    const std::uint64_t hi = u32();
    return static_cast<std::int64_t>(lo | hi << 32);
  }
  void string(std::string& out) {
    const auto n = u32();
    if (!ok || n > in.size()) return void(ok = false);
    out.assign(in.data(), n);
    in.remove_prefix(n);
  }
};

}  // namespace

void encode(const Entry& e, std::uint64_t write_start, std::string& out) {
  const auto start = out.size();
  out.append(kHeaderBytes, '\0');
  out.push_back(static_cast<char>(kVersion));
  put_i64(out, static_cast<std::int64_t>(write_start));
  put_i64(out, e.received_at_ms);
  put_i64(out, e.replay_expires_ms);
  put_string(out, e.lead_id);
  put_string(out, e.source);
  put_string(out, e.format);
  put_string(out, e.replay_key);
  put_string(out, e.raw);
  const auto length = static_cast<std::uint32_t>(out.size() - start - kHeaderBytes);
  std::string header;
  put_u32(header, length);
  const std::string_view payload(out.data() + start + kHeaderBytes, length);
  put_u32(header, record_crc(header.data(), payload));
  out.replace(start, kHeaderBytes, header);
}

bool decode(std::string_view payload, Entry& e, std::uint64_t* write_start) {
  if (payload.empty() || static_cast<unsigned char>(payload[0]) != kVersion) return false;
  PayloadReader r{payload.substr(1)};
  const auto start = static_cast<std::uint64_t>(r.i64());
  if (write_start != nullptr) *write_start = start;
  e.received_at_ms = r.i64();
  e.replay_expires_ms = r.i64();
  r.string(e.lead_id);
  r.string(e.source);
  r.string(e.format);
  r.string(e.replay_key);
  r.string(e.raw);
  return r.ok && r.in.empty() && !e.lead_id.empty();
}

namespace {

// The record at `pos`, when one starts there that passes its check; its payload in `payload`.
bool record_at(std::string_view bytes, std::size_t pos, std::string_view& payload) {
  if (pos + kHeaderBytes > bytes.size()) return false;
  const auto length = get_u32(bytes.data() + pos);
  if (length == 0 || length > kMaxRecordBytes || length > bytes.size() - pos - kHeaderBytes) return false;
  payload = bytes.substr(pos + kHeaderBytes, length);
  if (static_cast<unsigned char>(payload[0]) != kVersion) return false;  // cheap: most offsets stop here
  return record_crc(bytes.data() + pos, payload) == get_u32(bytes.data() + pos + 4);
}

std::uint64_t write_start_of(std::string_view payload) {
  std::uint64_t v = 0;
  for (int i = 8; i >= 1; --i) v = v << 8 | static_cast<unsigned char>(payload[i]);
  return v;
}

}  // namespace

ScanResult scan(std::string_view bytes, bool last,
                const std::function<bool(std::size_t offset, std::string_view payload)>& record) {
  ScanResult out;
  std::size_t pos = 0;
  std::string why;
  std::string_view payload;
  while (pos + kHeaderBytes <= bytes.size()) {
    const auto length = get_u32(bytes.data() + pos);
    if (length == 0 && get_u32(bytes.data() + pos + 4) == 0) break;  // the zeros past the last record
    if (!record_at(bytes, pos, payload)) {
      why = length > bytes.size() - pos - kHeaderBytes
                ? "the record at byte " + std::to_string(pos) + " claims " + std::to_string(length) +
                      " bytes, more than the segment holds"
                : "the record at byte " + std::to_string(pos) + " fails its CRC-32C check";
      break;
    }
    if (payload.size() < 9 || !record(pos, payload)) {
      out.status = ScanStatus::Corrupt;
      out.valid_end = pos;
      out.problem = "the record at byte " + std::to_string(pos) + " passes its check but its fields do not add up";
      return out;
    }
    ++out.records;
    pos += kHeaderBytes + length;
  }
  out.valid_end = pos;
  // Past the last whole record there must be nothing but zeros, or the remains of the one write a crash interrupted.
  std::size_t end = pos;  // one past the last non-zero byte
  for (std::size_t i = bytes.size(); i > pos; --i) {
    if (bytes[i - 1] != '\0') {
      end = i;
      break;
    }
  }
  if (end == pos) return out;  // clean
  if (why.empty()) why = "the records end at byte " + std::to_string(pos) + " but data follows";
  if (!last) {
    out.status = ScanStatus::Corrupt;
    out.problem = why + ", in a segment that is not the last (a torn write can only be at the very end)";
    return out;
  }
  // Each record names the offset where its write began. Any whole record after `pos` from a write that began after
  // `pos` proves the write holding `pos` was finished (the writer begins one only after the last was synced, and so
  // answered): that is damage, not a torn write. So is data further than any one write reaches.
  for (std::size_t at = pos + 1; at + kHeaderBytes <= end; ++at) {
    if (!record_at(bytes, at, payload) || payload.size() < 9) continue;
    if (write_start_of(payload) > pos) {
      out.status = ScanStatus::Corrupt;
      out.problem = why + ", and a later write's record follows at byte " + std::to_string(at);
      return out;
    }
  }
  if (end - pos > kMaxWriteBytes + kMaxRecordBytes) {
    out.status = ScanStatus::Corrupt;
    out.problem = why + ", with data further on than one write reaches";
    return out;
  }
  out.status = ScanStatus::Torn;
  out.dropped = end - pos;
  return out;
}

std::uint32_t record_length(const char* header) { return get_u32(header); }

bool check_and_decode(std::string_view record, Entry& entry) {
  std::string_view payload;
  return record.size() >= kHeaderBytes && get_u32(record.data()) == record.size() - kHeaderBytes &&
         record_at(record, 0, payload) && decode(payload, entry, nullptr);
}

}  // namespace intake_log

namespace {

constexpr std::uint64_t kGrowStep = 1u << 20;  // segments grow in preallocated steps of this much
constexpr int kWriterNiceSteps = 6;             // the writer's nice value above the process's (see open())

std::uint64_t encoded_size(const Entry& e) {
  return intake_log::kHeaderBytes + 1 + 24 + 5 * 4 + e.lead_id.size() + e.source.size() + e.format.size() +
         e.replay_key.size() + e.raw.size();
}

bool sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::uint64_t key_hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

// pread or pwrite until all `size` bytes are moved, retrying on EINTR; false on an error or the end of the file.
template <typename Call, typename Byte>
bool whole(Call call, int fd, Byte* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const auto n = call(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}
bool read_exact(int fd, char* data, std::size_t size, std::uint64_t offset) {
  return whole(::pread, fd, data, size, offset);
}
bool write_all(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  return whole(::pwrite, fd, data, size, offset);
}

// Preallocates [from, to) of a segment by writing zeros; errno is set when it returns false. Not posix_fallocate:
// ext4 (and XFS) keep fallocated space as unwritten extents, and the first write into one converts it, a metadata
// change every fdatasync then has to commit through the file system's journal. tests/bench/log_sync_bench, 32 KiB
// pwrite + fdatasync rounds on this kind of machine: 2,060-2,670/s at 124-165 us CPU each into fallocated space,
// ~5,000/s at 71-81 us into space written once with zeros. Writes inside written space change only data (the size
// was committed with the first fdatasync after the zeros).
bool zero_fill(int fd, std::uint64_t from, std::uint64_t to) {
  static const char zeros[64 * 1024] = {};  // never written: its pages stay the kernel's shared zero page
  for (std::uint64_t at = from; at < to;) {
    const auto n = std::min<std::uint64_t>(to - at, sizeof zeros);
    errno = 0;
    if (!write_all(fd, zeros, n, at)) {
      if (errno == 0) errno = ENOSPC;  // a write of 0 bytes: no room left
      return false;
    }
    at += n;
  }
  return true;
}

bool read_file(const std::filesystem::path& path, std::string& out, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error = std::strerror(errno), false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return false;
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  errno = 0;
  if (!read_exact(fd, out.data(), out.size(), 0)) {
    error = errno != 0 ? std::strerror(errno) : "the file shrank while being read";
    ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

}  // namespace

std::filesystem::path IntakeLog::segment_path(std::uint64_t number) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(number));
  return dir_ / name;
}

IntakeLog::IntakeLog(std::filesystem::path dir, const JournalConfig& config, Journal& journal)
    : dir_(std::move(dir)), config_(config), journal_(journal) {}

std::unique_ptr<IntakeLog> IntakeLog::open(const std::filesystem::path& state_dir, const JournalConfig& config,
                                           Journal& journal, std::string& error) {
  std::unique_ptr<IntakeLog> log(new IntakeLog(state_dir / "intake-log", config, journal));
  std::error_code ec;
  if (!std::filesystem::exists(log->dir_, ec)) {
    std::filesystem::create_directories(log->dir_, ec);
    if (ec) {
      error = "cannot create the intake log '" + log->dir_.string() + "': " + ec.message();
      return nullptr;
    }
    std::filesystem::permissions(log->dir_, std::filesystem::perms::owner_all, ec);
    sync_directory(state_dir);
  }
  if (!log->recover(error)) return nullptr;
  const auto db_path = database_path(state_dir);
  if (sqlite3_open_v2(db_path.c_str(), &log->keys_db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v3(log->keys_db_, "SELECT lead_id, expires_ms FROM replay_keys WHERE key = ?1", -1,
                         SQLITE_PREPARE_PERSISTENT, &log->key_find_, nullptr) != SQLITE_OK) {
    error = "cannot read the store's redelivery keys: " + std::string(sqlite3_errmsg(log->keys_db_));
    return nullptr;
  }
  sqlite3_busy_timeout(log->keys_db_, detail::kBusyTimeoutMs);
  log->writer_ = std::thread([l = log.get()] {
    util::name_this_thread("lr-intake-log");
    // A few steps below the I/O threads (still far above the background's SCHED_IDLE): when its fdatasync returns
    // it does not preempt a request being parsed; it answers once the I/O thread waits for the network, or at the
    // next tick, and its next write takes everything parsed meanwhile. With 64 connections on one core
    // (tests/bench/load) the I/O thread was preempted 0.019 times a request at nice 0 and 0.005 at +6, the writer
    // wrote ~20 % more leads a write, and intake answered ~5 % more leads a second at a lower p99 (+3 and +8 were
    // no better than 0; +19 was worse: then the I/O thread preempts the writer in the middle of a write).
    util::lower_this_thread(kWriterNiceSteps);
    l->run_writer();
  });
  log->mover_ = util::background_thread("lr-log-mover", [l = log.get()] { l->run_mover(); });
  // Erasure and retention truncate the store's WAL so erased data leaves its files: the log's segments go too.
  journal.set_truncate_hook([l = log.get()](util::UniqueFunction<void(bool)> done) { l->retire(std::move(done)); });
  return log;
}

bool IntakeLog::recover(std::string& error) {
  std::vector<std::uint64_t> numbers;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(dir_, ec)) {
    const auto name = item.path().filename().string();
    if (name.size() != 24 || !name.ends_with(".log") ||
        !std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    numbers.push_back(std::stoull(name.substr(0, 20)));
  }
  if (ec) return error = "cannot read the intake log '" + dir_.string() + "': " + ec.message(), false;
  std::sort(numbers.begin(), numbers.end());
  std::string bytes;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const auto path = segment_path(numbers[i]);
    std::string problem;
    if (!read_file(path, bytes, problem)) {
      error = "cannot read the intake log segment '" + path.string() + "': " + problem;
      return false;
    }
    const bool last = i + 1 == numbers.size();
    Entry entry;
    const auto result = intake_log::scan(bytes, last, [&](std::size_t offset, std::string_view payload) {
      if (!intake_log::decode(payload, entry, nullptr)) return false;
      if (!entry.replay_key.empty()) {
        keys_[key_hash(entry.replay_key)] = Key{numbers[i], static_cast<std::uint64_t>(offset),
                                                entry.replay_expires_ms};
      }
      return true;
    });
    if (result.status == intake_log::ScanStatus::Corrupt) {
      error = "the intake log segment '" + path.string() + "' is damaged: " + result.problem +
              ". Its leads were acknowledged, so leadrelay will not start past it: copy the intake-log directory "
              "aside for inspection, then move the damaged segment out of it to start without its leads";
      return false;
    }
    if (result.status == intake_log::ScanStatus::Torn) {
      // A write the crash interrupted: nobody was answered for it. Cut it off so the next write starts clean.
      const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(result.valid_end)) != 0 || ::fsync(fd) != 0) {
        error = "cannot cut the torn tail off the intake log segment '" + path.string() + "': " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return false;
      }
      ::close(fd);
      log::warn("intake_log_torn_tail", {log::safe("segment", path.string()),
                                         {"kept_bytes", static_cast<std::int64_t>(result.valid_end)},
                                         {"dropped_bytes", static_cast<std::int64_t>(result.dropped)},
                                         {"hint", "a write interrupted by a crash; its senders were not answered "
                                                  "and will retry"}});
    }
    segments_.push_back(Segment{numbers[i], result.valid_end, result.records, !last});
  }
  if (!numbers.empty()) {
    const auto path = segment_path(numbers.back());
    fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
      error = "cannot open the intake log segment '" + path.string() + "': " + std::strerror(errno);
      return false;
    }
    write_offset_ = segments_.back().durable_end;
    allocated_ = static_cast<std::uint64_t>(st.st_size);
  }
  if (const auto waiting = leads_in_log(); waiting > 0) {
    log::info("intake_log_recovered", {{"leads", waiting}, {"segments", static_cast<std::int64_t>(segments_.size())}});
  }
  return true;
}

IntakeLog::~IntakeLog() {
  stop(std::chrono::milliseconds(0));
  if (fd_ >= 0) ::close(fd_);
  sqlite3_finalize(key_find_);
  sqlite3_close(keys_db_);
}

void IntakeLog::append(Entry entry, Journal::Completion done) {
  AppendStatus refused = AppendStatus::Overloaded;
  {
    std::lock_guard lock(mutex_);
    if (stop_writer_) {
      refused = AppendStatus::Stopped;
    } else if (queue_.size() < config_.max_pending) {
      queue_.push_back(Pending{std::move(entry), std::move(done)});
      writer_wake_.notify_one();
      return;
    }
  }
  done(AppendResult{refused, {}});
}

void IntakeLog::stop(std::chrono::milliseconds move_for) {
  {
    std::lock_guard lock(mutex_);
    if (stop_writer_ && stop_mover_) return;
    stop_writer_ = true;
  }
  writer_wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::unique_lock lock(mutex_);
    moved_.wait_for(lock, move_for, [&] { return leads_in_log() == 0; });
    stop_mover_ = true;
  }
  mover_wake_.notify_all();
  if (mover_.joinable()) mover_.join();
  std::deque<Retirement> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(retirements_);
  }
  for (auto& r : left) r.done(false);
}

std::deque<IntakeLog::Retirement> IntakeLog::retired(std::unique_lock<std::mutex>&) {
  std::deque<Retirement> done;
  const std::uint64_t oldest = segments_.empty() ? std::numeric_limits<std::uint64_t>::max() : segments_.front().number;
  while (!retirements_.empty() && retirements_.front().through < oldest) {
    done.push_back(std::move(retirements_.front()));
    retirements_.pop_front();
  }
  return done;
}

void IntakeLog::retire(util::UniqueFunction<void(bool)> done) {
  std::unique_lock lock(mutex_);
  if (stop_mover_) {
    lock.unlock();
    return done(false);
  }
  std::uint64_t through = 0;
  if (!segments_.empty()) {
    const auto& newest = segments_.back();
    through = newest.durable_end > 0 ? newest.number : newest.number - 1;
    if (newest.durable_end > 0 && !newest.sealed) seal_requested_ = true;
  }
  retirements_.push_back(Retirement{through, std::move(done)});
  auto now_done = retired(lock);
  lock.unlock();
  for (auto& r : now_done) r.done(true);
  writer_wake_.notify_one();
  mover_wake_.notify_one();
}

std::uint64_t IntakeLog::leads_in_log() const {
  std::uint64_t n = 0;
  for (const auto& s : segments_) n += s.records;
  return n;
}

std::uint64_t IntakeLog::bytes_in_log() const {
  std::uint64_t n = 0;
  for (const auto& s : segments_) n += s.durable_end;
  return n;
}

bool IntakeLog::healthy() const {
  std::lock_guard lock(mutex_);
  return log_healthy_ && !moves_failing_ && !stop_writer_ && journal_.healthy();
}

IntakeLogStats IntakeLog::stats() const {
  std::lock_guard lock(mutex_);
  return IntakeLogStats{appended_, writes_, leads_in_log(), bytes_in_log(), segments_.size()};
}

void IntakeLog::run_writer() {
  std::deque<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      writer_wake_.wait(lock, [&] { return !queue_.empty() || stop_writer_ || seal_requested_; });
      if (seal_requested_) {
        // retire(): no more writes to this segment; the mover deletes it once it is all in the store.
        seal_requested_ = false;
        if (!segments_.empty()) segments_.back().sealed = true;
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        mover_wake_.notify_one();
      }
      if (queue_.empty()) {
        if (stop_writer_) return;  // stopping, and everything queued is answered
        continue;
      }
      std::uint64_t bytes = 0;
      while (!queue_.empty()) {
        const auto size = encoded_size(queue_.front().entry);
        if (!batch.empty() && bytes + size > intake_log::kMaxWriteBytes) break;
        bytes += size;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write_batch(batch);
    batch.clear();
  }
}

bool IntakeLog::read_record(const Key& where, Entry& entry) {
  bool active = false;
  {
    std::lock_guard lock(mutex_);
    active = !segments_.empty() && segments_.back().number == where.segment && !segments_.back().sealed;
  }
  const int fd = active ? fd_ : ::open(segment_path(where.segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // deleted: everything in it is in the store
  std::string record(intake_log::kHeaderBytes, '\0');
  bool ok = read_exact(fd, record.data(), record.size(), where.offset);
  if (ok) {
    const auto length = intake_log::record_length(record.data());
    ok = length <= intake_log::kMaxRecordBytes;
    if (ok) {
      record.resize(intake_log::kHeaderBytes + length);
      ok = read_exact(fd, record.data() + intake_log::kHeaderBytes, length, where.offset + intake_log::kHeaderBytes) &&
           intake_log::check_and_decode(record, entry);
    }
  }
  if (!active) ::close(fd);
  return ok;
}

bool IntakeLog::find_key(const Entry& e, std::string& lead_id) {
  Key where;
  bool in_log = false;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = keys_.find(key_hash(e.replay_key)); it != keys_.end()) {
      where = it->second;
      in_log = true;
    }
  }
  Entry first;
  if (in_log && read_record(where, first) && first.replay_key == e.replay_key) {
    // The newest lead with this key is still in the log: the store holds no newer one.
    if (first.replay_expires_ms <= e.received_at_ms) return false;
    lead_id = std::move(first.lead_id);
    return true;
  }
  // Not in the log (or only another key with the same hash): the mover takes a key out of the map only after its
  // transaction committed, so the store has it.
  sqlite3_bind_text(key_find_, 1, e.replay_key.data(), static_cast<int>(e.replay_key.size()), SQLITE_STATIC);
  bool found = false;
  if (sqlite3_step(key_find_) == SQLITE_ROW && sqlite3_column_int64(key_find_, 1) > e.received_at_ms) {
    lead_id = reinterpret_cast<const char*>(sqlite3_column_text(key_find_, 0));
    found = true;
  }
  sqlite3_reset(key_find_);
  return found;
}

bool IntakeLog::make_room(std::size_t bytes, std::string& error) {
  if (fd_ >= 0 && write_offset_ + bytes <= allocated_) return true;
  if (fd_ >= 0 && (write_offset_ == 0 || write_offset_ + bytes <= config_.log_segment_bytes)) {
    // Grow this segment by another preallocated step (zeros on disk): later writes inside it need no new space.
    const auto want = std::max<std::uint64_t>(write_offset_ + bytes, allocated_ + kGrowStep);
    if (!zero_fill(fd_, allocated_, want)) {
      return error = std::string("cannot grow the intake log: ") + std::strerror(errno), false;
    }
    allocated_ = want;
    return true;
  }
  // A new segment.
  std::uint64_t number = 1;
  {
    std::lock_guard lock(mutex_);
    if (!segments_.empty()) number = segments_.back().number + 1;
  }
  const auto path = segment_path(number);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return error = "cannot create '" + path.string() + "': " + std::strerror(errno), false;
  const auto size = std::max<std::uint64_t>(bytes, kGrowStep);
  if (!zero_fill(fd, 0, size) || !sync_directory(dir_)) {
    error = "cannot create '" + path.string() + "': " + std::strerror(errno);
    ::close(fd);
    ::unlink(path.c_str());
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  write_offset_ = 0;
  allocated_ = size;
  {
    std::lock_guard lock(mutex_);
    if (!segments_.empty()) segments_.back().sealed = true;
    segments_.push_back(Segment{number, 0, 0, false});
  }
  mover_wake_.notify_one();
  return true;
}

void IntakeLog::write_batch(std::deque<Pending>& batch) {
  buffer_.clear();
  std::vector<std::string> duplicate_of(batch.size());
  std::unordered_map<std::string_view, std::size_t> batch_keys;  // a key's first lead in this batch
  std::uint64_t records = 0;
  bool store_ok = journal_.healthy();
  {
    std::lock_guard lock(mutex_);
    store_ok = store_ok && !moves_failing_;
  }
  // While the store refuses writes, leads are refused too, rather than piling up in the log unseen.
  AppendStatus status = store_ok ? AppendStatus::Committed : AppendStatus::Failed;
  std::string error = "the store refuses writes";
  std::vector<bool> written(batch.size(), false);
  std::vector<std::uint64_t> offsets(batch.size(), 0);
  std::uint64_t size = 0;
  for (std::size_t i = 0; status == AppendStatus::Committed && i < batch.size(); ++i) {
    const auto& e = batch[i].entry;
    if (!e.replay_key.empty()) {
      // Two identical deliveries in one batch are one lead, as are a delivery and one already durable.
      if (const auto it = batch_keys.find(e.replay_key); it != batch_keys.end()) {
        duplicate_of[i] = batch[it->second].entry.lead_id;
        continue;
      }
      if (find_key(e, duplicate_of[i])) continue;
      batch_keys.emplace(e.replay_key, i);
    }
    written[i] = true;
    size += encoded_size(e);
    ++records;
  }
  if (status == AppendStatus::Committed && records > 0) {
    bool over = false;
    {
      std::lock_guard lock(mutex_);
      over = bytes_in_log() + size > config_.log_max_bytes;
    }
    if (over) {
      status = AppendStatus::Overloaded;
    } else if (!make_room(size, error)) {
      status = AppendStatus::Failed;
    } else {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!written[i]) continue;
        offsets[i] = write_offset_ + buffer_.size();
        intake_log::encode(batch[i].entry, write_offset_, buffer_);
      }
      if (!write_all(fd_, buffer_.data(), buffer_.size(), write_offset_) ||
          (config_.synchronous_full ? ::fdatasync(fd_) : 0) != 0) {
        // Nothing is answered. The next write goes to the same offset and replaces what part of this one landed;
        // what lies past its end has this write's start, before the durable end, and a start cuts it off (scan).
        error = std::string("cannot write the intake log: ") + std::strerror(errno);
        status = AppendStatus::Failed;
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (status == AppendStatus::Committed) {
      write_offset_ += buffer_.size();
      for (std::size_t i = 0; records > 0 && i < batch.size(); ++i) {
        const auto& e = batch[i].entry;
        if (written[i] && !e.replay_key.empty()) {
          keys_[key_hash(e.replay_key)] = Key{segments_.back().number, offsets[i], e.replay_expires_ms};
        }
      }
      if (records > 0) {
        segments_.back().durable_end = write_offset_;
        segments_.back().records += records;
        appended_ += records;
        ++writes_;
      }
      if (!log_healthy_) log::info("intake_log_recovered_writes");
      log_healthy_ = true;
    } else {
      if (status == AppendStatus::Failed && store_ok) {
        if (log_healthy_) {
          log::error("intake_log_write_failed",
                     {{"message", error},
                      {"hint", "leads are answered 503 until the intake log's disk accepts writes again; check free "
                               "space under state_dir"}});
        }
        log_healthy_ = false;
      }
    }
  }
  if (status == AppendStatus::Committed && records > 0) mover_wake_.notify_one();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& p = batch[i];
    const bool more = i + 1 < batch.size();
    if (status == AppendStatus::Committed && !duplicate_of[i].empty()) {
      p.done(AppendResult{AppendStatus::Duplicate, std::move(duplicate_of[i]), more});
    } else {
      p.done(AppendResult{status, status == AppendStatus::Committed ? p.entry.lead_id : std::string(), more});
    }
  }
}

void IntakeLog::run_mover() {
  int fd = -1;
  std::uint64_t number = 0;
  std::uint64_t offset = 0;
  std::string chunk;
  const std::size_t most = std::max<std::size_t>(
      1, std::min<std::uint64_t>(2 * config_.max_batch, std::max<std::uint64_t>(1, config_.max_pending / 2)));
  bool damaged = false;
  for (;;) {
    std::uint64_t end = 0;
    {
      std::unique_lock lock(mutex_);
      mover_wake_.wait(lock, [&] {
        if (stop_mover_) return true;
        if (damaged || segments_.empty()) return false;
        const auto& front = segments_.front();
        const auto at = front.number == number ? offset : 0;
        return front.durable_end > at || front.sealed;
      });
      if (stop_mover_) break;
      auto& front = segments_.front();
      if (front.number != number) {
        if (fd >= 0) ::close(fd);
        number = front.number;
        offset = 0;
        fd = ::open(segment_path(number).c_str(), O_RDONLY | O_CLOEXEC);
      }
      end = front.durable_end;
      if (offset >= end && front.sealed) {
        // Everything in it is in the store: it goes.
        segments_.pop_front();
        lock.unlock();
        if (fd >= 0) ::close(fd);
        fd = -1;
        ::unlink(segment_path(number).c_str());
        sync_directory(dir_);
        number = 0;
        lock.lock();
        auto done = retired(lock);
        lock.unlock();
        for (auto& r : done) r.done(true);
        continue;
      }
    }
    // Read whole records from `offset`, up to the durable end.
    std::vector<Entry> entries;
    std::vector<std::size_t> starts;  // each entry's offset in the chunk
    std::size_t consumed = 0;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(end - offset, intake_log::kMaxWriteBytes));
    bool ok = fd >= 0;
    while (ok) {
      chunk.resize(want);
      const std::size_t got = want;
      if (!read_exact(fd, chunk.data(), want, offset)) {
        ok = false;
        break;
      }
      std::size_t pos = 0;
      while (pos + intake_log::kHeaderBytes <= got && entries.size() < most) {
        const auto length = intake_log::record_length(chunk.data() + pos);
        if (pos + intake_log::kHeaderBytes + length > got) break;
        Entry e;
        if (!intake_log::check_and_decode(std::string_view(chunk.data() + pos, intake_log::kHeaderBytes + length),
                                          e)) {
          ok = false;
          break;
        }
        entries.push_back(std::move(e));
        starts.push_back(pos);
        pos += intake_log::kHeaderBytes + length;
      }
      consumed = pos;
      if (!ok || !entries.empty() || pos + intake_log::kHeaderBytes > got) break;
      // One record larger than the read: read it whole.
      want = intake_log::kHeaderBytes + intake_log::record_length(chunk.data());
    }
    if (!ok) {
      if (!damaged) {
        log::error("intake_log_unreadable",
                   {log::safe("segment", segment_path(number).string()), {"offset", static_cast<std::int64_t>(offset)},
                    {"hint", "intake answers 503 and the leads from here on stay in the log; restart leadrelay to "
                             "have it checked"}});
      }
      damaged = true;
      std::lock_guard lock(mutex_);
      moves_failing_ = true;  // nothing more would reach the store: refuse rather than pile leads up unseen
      continue;
    }
    // Into the store, all of them, then forget their keys and move on; on failure the same records again later.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> keys;  // (key hash, record offset)
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].replay_key.empty()) keys.emplace_back(key_hash(entries[i].replay_key), offset + starts[i]);
    }
    std::mutex m;
    std::condition_variable cv;
    std::size_t left = entries.size();
    bool all_in = true;
    bool refused = false;  // the store failed the transaction (not just busy)
    for (auto& e : entries) {
      journal_.append(std::move(e), [&](AppendResult r) {
        std::lock_guard lock(m);
        // Duplicate: the store has this key, hence (one transaction) this lead, from before a crash.
        if (r.status != AppendStatus::Committed && r.status != AppendStatus::Duplicate) all_in = false;
        if (r.status == AppendStatus::Failed) refused = true;
        if (--left == 0) cv.notify_one();
      });
    }
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return left == 0; });
    }
    std::unique_lock lock(mutex_);
    if (!all_in) {
      // The store refuses writes (disk full) or is busy: try again in a second.
      moves_failing_ = refused;
      mover_wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_mover_; });
      continue;
    }
    moves_failing_ = false;
    offset += consumed;
    segments_.front().records -= entries.size();
    for (const auto& [hash, at] : keys) {
      const auto it = keys_.find(hash);
      if (it != keys_.end() && it->second.segment == number && it->second.offset == at) keys_.erase(it);
    }
    moved_.notify_all();
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace leadrelay::store
