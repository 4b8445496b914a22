// The intake log: records survive a restart, a torn tail is cut off, other damage stops the start, redelivery keys
// hold across the log and the store, segments are deleted once moved, a write's answers come in a row, the writer
// runs below the I/O threads, and a full log answers Overloaded.
#include "daemon/store/intake_log.hpp"
#include "daemon/store/backup.hpp"
#include "daemon/store/crc32c.hpp"
#include "daemon/store/schema.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "daemon/model/lead_id.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::store {
namespace {

namespace fs = std::filesystem;
using intake_log::ScanStatus;

Entry entry(std::string raw = R"({"UserDetails":{}})", std::string key = {}) {
  const std::int64_t now = 1732320000000;
  const std::int64_t expires = key.empty() ? 0 : now + 3600000;
  return Entry{model::new_lead_id(now), "marketplace", now, std::move(raw), "ms-marketplace", std::move(key), expires};
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_all(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(Crc32c, MatchesTheStandardCheckValueAndExtends) {
  const std::string text = "123456789";
  EXPECT_EQ(crc32c(0, text.data(), text.size()), 0xE3069283u);  // RFC 3720, the CRC-32C check value
  EXPECT_EQ(crc32c(crc32c(0, text.data(), 4), text.data() + 4, 5), 0xE3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(0, zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
}

// Records as the writer lays them out: one write from offset 0 holding `n` records, padded with zeros.
std::string segment_of(const std::vector<Entry>& entries, std::size_t zeros = 4096) {
  std::string out;
  for (const auto& e : entries) intake_log::encode(e, 0, out);
  out.append(zeros, '\0');
  return out;
}

std::vector<Entry> scan_entries(const std::string& bytes, bool last, intake_log::ScanResult& result) {
  std::vector<Entry> out;
  result = intake_log::scan(bytes, last, [&](std::size_t, std::string_view payload) {
    Entry e;
    if (!intake_log::decode(payload, e, nullptr)) return false;
    out.push_back(std::move(e));
    return true;
  });
  return out;
}

TEST(IntakeLogFormat, RecordsRoundTrip) {
  std::vector<Entry> in{entry("a"), entry(std::string(70000, 'b'), "src|json:1"), entry("")};
  in[2].raw = "";
  intake_log::ScanResult r;
  const auto out = scan_entries(segment_of(in), true, r);
  EXPECT_EQ(r.status, ScanStatus::Clean);
  ASSERT_EQ(out.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].lead_id, in[i].lead_id);
    EXPECT_EQ(out[i].raw, in[i].raw);
    EXPECT_EQ(out[i].replay_key, in[i].replay_key);
    EXPECT_EQ(out[i].replay_expires_ms, in[i].replay_expires_ms);
    EXPECT_EQ(out[i].received_at_ms, in[i].received_at_ms);
    EXPECT_EQ(out[i].format, "ms-marketplace");
  }
}

TEST(IntakeLogFormat, ATornLastWriteIsCutOffAndEverythingBeforeKept) {
  // Two writes: the first (two records) was synced; the second was cut short by a crash.
  std::string bytes;
  intake_log::encode(entry("first"), 0, bytes);
  intake_log::encode(entry("second"), 0, bytes);
  const auto second_write = bytes.size();
  intake_log::encode(entry(std::string(3000, 'x')), second_write, bytes);
  intake_log::encode(entry("fourth"), second_write, bytes);
  const auto full = bytes.size();
  // The sectors of the third record after its first 512 bytes never reached the disk; the fourth's did.
  std::string torn = bytes;
  std::fill(torn.begin() + static_cast<long>(second_write) + 512, torn.begin() + static_cast<long>(second_write) + 3000,
            '\0');
  torn.append(8192, '\0');
  intake_log::ScanResult r;
  const auto kept = scan_entries(torn, true, r);
  EXPECT_EQ(r.status, ScanStatus::Torn);
  EXPECT_EQ(r.valid_end, second_write);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.dropped, full - second_write);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1].raw, "second");
  // The same bytes in a segment that is not the last: a torn write cannot be there.
  EXPECT_EQ(intake_log::scan(torn, false, [](std::size_t, std::string_view) { return true; }).status,
            ScanStatus::Corrupt);
  // A header cut short at the very end.
  std::string short_header = bytes.substr(0, second_write) + std::string("\x10\x00\x00", 3);
  EXPECT_EQ(intake_log::scan(short_header, true, [](std::size_t, std::string_view) { return true; }).status,
            ScanStatus::Torn);
}

TEST(IntakeLogFormat, DamageBeforeALaterWriteStopsTheStart) {
  std::string bytes;
  intake_log::encode(entry("first"), 0, bytes);
  const auto second = bytes.size();
  intake_log::encode(entry("second, a later write"), second, bytes);
  bytes.append(1024, '\0');
  std::string flipped = bytes;
  flipped[20] ^= 0x04;  // a bit of the first record's payload
  intake_log::ScanResult r = intake_log::scan(flipped, true, [](std::size_t, std::string_view) { return true; });
  EXPECT_EQ(r.status, ScanStatus::Corrupt);
  EXPECT_NE(r.problem.find("fails its CRC-32C check"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("a later write's record follows at byte " + std::to_string(second)), std::string::npos)
      << r.problem;
  // A flipped length is caught the same way (the checksum covers it).
  std::string length_flip = bytes;
  length_flip[0] ^= 0x01;
  EXPECT_EQ(intake_log::scan(length_flip, true, [](std::size_t, std::string_view) { return true; }).status,
            ScanStatus::Corrupt);
  // A sector of zeros inside synced data, with later writes after it.
  std::string zeroed = bytes;
  std::fill(zeroed.begin(), zeroed.begin() + 8, '\0');
  EXPECT_EQ(intake_log::scan(zeroed, true, [](std::size_t, std::string_view) { return true; }).status,
            ScanStatus::Corrupt);
  // Garbage past the end of a segment that is otherwise clean.
  std::string trailing = bytes + "junk";
  EXPECT_EQ(intake_log::scan(trailing, false, [](std::size_t, std::string_view) { return true; }).status,
            ScanStatus::Corrupt);
}

class IntakeLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("leadrelay-intake-log-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    log_.reset();
    journal_.reset();
    fs::remove_all(dir_);
  }

  bool open(JournalConfig config = {}, std::string* error_out = nullptr) {
    std::string error;
    journal_ = Journal::open(dir_, config, error);
    EXPECT_TRUE(journal_) << error;
    log_ = IntakeLog::open(dir_, config, *journal_, error);
    if (error_out != nullptr) *error_out = error;
    return log_ != nullptr;
  }
  void close(std::chrono::milliseconds move_for = std::chrono::seconds(10)) {
    log_->stop(move_for);
    log_.reset();
    journal_->stop();
    journal_.reset();
  }

  AppendResult append(Entry e) {
    std::promise<AppendResult> p;
    auto f = p.get_future();
    log_->append(std::move(e), [&p](AppendResult r) { p.set_value(std::move(r)); });
    return f.get();
  }

  void wait_moved() {
    for (int i = 0; i < 2000 && log_->stats().in_log > 0; ++i) {
      // The mover reports no event per lead; its count is the thing to watch.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(log_->stats().in_log, 0u);
  }

  std::map<std::string, std::string> stored() {
    std::map<std::string, std::string> rows;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(database_path(dir_).c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT lead_id, raw FROM leads", -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      rows[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] =
          std::string(static_cast<const char*>(sqlite3_column_blob(stmt, 1)),
                      static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
  }

  std::vector<fs::path> segments() {
    std::vector<fs::path> out;
    for (const auto& f : fs::directory_iterator(dir_ / "intake-log")) out.push_back(f.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<IntakeLog> log_;
};

TEST_F(IntakeLogTest, AcknowledgedLeadsReachTheStoreOnce) {
  ASSERT_TRUE(open());
  std::map<std::string, std::string> sent;
  for (int i = 0; i < 50; ++i) {
    auto e = entry("lead " + std::to_string(i));
    sent[e.lead_id] = e.raw;
    const auto r = append(std::move(e));
    ASSERT_EQ(r.status, AppendStatus::Committed);
  }
  wait_moved();
  EXPECT_EQ(stored(), sent);
  close();
  // Opened again: the log's records are moved again, and the store keeps one row each.
  ASSERT_TRUE(open());
  wait_moved();
  EXPECT_EQ(stored(), sent);
}

TEST_F(IntakeLogTest, WhatALastRunLeftInTheLogIsMovedAtStart) {
  // As a kill -9 leaves it: records durable in the log, none in the store yet, and a key among them.
  fs::create_directories(dir_ / "intake-log");
  auto keyed = entry("keyed", "marketplace|json:7");
  const auto keyed_id = keyed.lead_id;
  const auto plain = entry("plain");
  std::string bytes;
  intake_log::encode(keyed, 0, bytes);
  intake_log::encode(plain, bytes.size(), bytes);
  bytes.append(1 << 16, '\0');
  write_all(dir_ / "intake-log" / "00000000000000000001.log", bytes);
  ASSERT_TRUE(open());
  // A redelivery right away, whether the first is still in the log or already moved: the first lead's id.
  const auto again = append(entry("redelivered", "marketplace|json:7"));
  EXPECT_EQ(again.status, AppendStatus::Duplicate);
  EXPECT_EQ(again.lead_id, keyed_id);
  wait_moved();
  const auto rows = stored();
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.at(keyed_id), "keyed");
  EXPECT_EQ(rows.at(plain.lead_id), "plain");
}

TEST_F(IntakeLogTest, RedeliveryKeysHoldInTheLogAndInTheStore) {
  ASSERT_TRUE(open());
  const auto original = append(entry("first delivery", "marketplace|json:42"));
  ASSERT_EQ(original.status, AppendStatus::Committed);
  // While the first is (perhaps) still in the log, and after it is in the store.
  const auto again = append(entry("second delivery", "marketplace|json:42"));
  EXPECT_EQ(again.status, AppendStatus::Duplicate);
  EXPECT_EQ(again.lead_id, original.lead_id);
  wait_moved();
  const auto later = append(entry("third delivery", "marketplace|json:42"));
  EXPECT_EQ(later.status, AppendStatus::Duplicate);
  EXPECT_EQ(later.lead_id, original.lead_id);
  EXPECT_EQ(stored().size(), 1u);
  // While the store refuses writes, intake is refused too (nothing written, nothing answered 2xx).
  journal_->stop();
  EXPECT_EQ(append(entry("refused")).status, AppendStatus::Failed);
  close(std::chrono::milliseconds(0));
  EXPECT_EQ(stored().size(), 1u);
}

TEST_F(IntakeLogTest, ATornTailIsCutAtStartAndDamageRefusesToStart) {
  ASSERT_TRUE(open());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(append(entry("lead " + std::to_string(i))).status, AppendStatus::Committed);
  wait_moved();
  close();
  const auto segment = segments().at(0);
  auto bytes = read_all(segment);
  // A crash in the middle of a fourth write: its header and some of its payload landed.
  std::string fourth;
  const auto end = intake_log::scan(bytes, true, [](std::size_t, std::string_view) { return true; }).valid_end;
  intake_log::encode(entry(std::string(2000, 'x')), end, fourth);
  bytes.replace(end, 600, fourth.substr(0, 600));
  write_all(segment, bytes);
  ASSERT_TRUE(open());
  EXPECT_EQ(fs::file_size(segment), end);  // cut back to the last whole record
  const auto r = append(entry("after the cut"));
  ASSERT_EQ(r.status, AppendStatus::Committed);
  wait_moved();
  EXPECT_EQ(stored().size(), 4u);
  close();
  // A flipped bit in the first record, which later writes follow: acknowledged data is damaged.
  bytes = read_all(segment);
  bytes[30] ^= 0x10;
  write_all(segment, bytes);
  std::string error;
  EXPECT_FALSE(open({}, &error));
  EXPECT_NE(error.find(segment.string()), std::string::npos) << error;
  EXPECT_NE(error.find("fails its CRC-32C check"), std::string::npos) << error;
  EXPECT_NE(error.find("move the damaged segment out"), std::string::npos) << error;
}

TEST_F(IntakeLogTest, SegmentsRollAndAreDeletedOnceMoved) {
  JournalConfig config;
  config.log_segment_bytes = 1 << 20;
  ASSERT_TRUE(open(config));
  const std::string body(100000, 'y');
  for (int i = 0; i < 30; ++i) ASSERT_EQ(append(entry(body)).status, AppendStatus::Committed);
  wait_moved();
  // ~3 MiB went through 1 MiB segments: the moved, sealed ones are gone; the one being written stays.
  EXPECT_EQ(segments().size(), 1u);
  EXPECT_EQ(stored().size(), 30u);
  const auto s = log_->stats();
  EXPECT_EQ(s.appended, 30u);
  EXPECT_EQ(s.segments, 1u);
}

TEST_F(IntakeLogTest, ABackupHoldsTheLeadsStillInTheLog) {
  {
    std::string error;
    auto journal = Journal::open(dir_, {}, error);  // a store, with nothing moved into it yet
    ASSERT_TRUE(journal) << error;
  }
  fs::create_directories(dir_ / "intake-log");
  const auto a = entry("in the log", "marketplace|json:9");
  const auto b = entry("also in the log");
  std::string bytes;
  intake_log::encode(a, 0, bytes);
  intake_log::encode(b, 0, bytes);
  bytes.append(1024, '\0');
  write_all(dir_ / "intake-log" / "00000000000000000001.log", bytes);
  BackupInfo info;
  std::string error;
  const auto file = dir_.parent_path() / (dir_.filename().string() + ".backup");
  ASSERT_TRUE(backup(dir_, file, info, error)) << error;
  EXPECT_EQ(info.leads, 2);
  // Restored, the two are leads of the store, with the key (a redelivery is still one lead).
  const auto restored = dir_.parent_path() / (dir_.filename().string() + "-restored");
  fs::remove_all(restored);
  ASSERT_TRUE(restore(file, restored, info, error)) << error;
  std::string journal_error;
  auto journal = Journal::open(restored, {}, journal_error);
  ASSERT_TRUE(journal) << journal_error;
  std::promise<AppendResult> p;
  journal->append(entry("redelivered", "marketplace|json:9"), [&p](AppendResult r) { p.set_value(r); });
  const auto r = p.get_future().get();
  EXPECT_EQ(r.status, AppendStatus::Duplicate);
  EXPECT_EQ(r.lead_id, a.lead_id);
  journal.reset();
  fs::remove_all(restored);
  fs::remove(file);
}

TEST_F(IntakeLogTest, AWritesLeadsAreAnsweredInARowMarkedUntilTheLast) {
  ASSERT_TRUE(open());
  // Leads arriving while a write is on its way go together in the next: their answers come in a row, each but the
  // last saying more follow (the HTTP server wakes its thread once for them).
  std::mutex m;
  std::condition_variable cv;
  std::vector<bool> more;
  constexpr int kLeads = 300;
  for (int i = 0; i < kLeads; ++i) {
    log_->append(entry("lead " + std::to_string(i)), [&](AppendResult r) {
      EXPECT_EQ(r.status, AppendStatus::Committed);
      std::lock_guard lock(m);
      more.push_back(r.more);
      cv.notify_one();
    });
  }
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return more.size() == kLeads; }));
  EXPECT_FALSE(more.back());
  const auto lasts = static_cast<std::uint64_t>(std::count(more.begin(), more.end(), false));
  EXPECT_EQ(lasts, log_->stats().writes);  // one last answer per write
}

// The nice value of this process's thread named `name` (field 19 of /proc/self/task/TID/stat); nullopt if none.
std::optional<int> nice_of_thread(const std::string& name) {
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    const auto comm = read_all(task.path() / "comm");
    if (util::trim(comm) != name) continue;
    const auto stat = read_all(task.path() / "stat");
    std::istringstream in(stat.substr(stat.rfind(')') + 2));  // from field 3 on, after "pid (comm) "
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    return std::stoi(fields.at(19 - 3));
  }
  return std::nullopt;
}

TEST_F(IntakeLogTest, TheWriterRunsSixNiceStepsBelowTheProcess) {
  ASSERT_TRUE(open());
  ASSERT_EQ(append(entry("a lead")).status, AppendStatus::Committed);  // the writer is running
  const auto nice = nice_of_thread("lr-intake-log");
  ASSERT_TRUE(nice.has_value());
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, 0);  // this (the main) thread's: the process's
  ASSERT_EQ(errno, 0);
  EXPECT_EQ(*nice, std::min(19, base + 6));
}

TEST_F(IntakeLogTest, AFullLogAnswersOverloaded) {
  JournalConfig config;
  config.log_max_bytes = 1 << 20;
  ASSERT_TRUE(open(config));
  EXPECT_EQ(append(entry(std::string(2 << 20, 'z'))).status, AppendStatus::Overloaded);
  EXPECT_EQ(append(entry("small")).status, AppendStatus::Committed);
  wait_moved();
  EXPECT_EQ(stored().size(), 1u);
}

}  // namespace
}  // namespace leadrelay::store
