#pragma once
// `retention:`: how long a lead's personal data is kept. Its contact data (name, email, phone, title, message) is
// removed `contact_data` after it arrived (`informational_leads` for leads that need no answer: Get it now, free
// trials, test drives, which Partner Center archives after 6 months); the whole lead after `leads` (0: never). What
// the figures need stays with the lead until then: status, dates, offer, country, company, verdicts, deal values.
// A lead still waiting for an answer (Received) or for a destination (a pending delivery) is never pruned early:
// it waits, and the log says how many wait. The RetentionWorker prunes in the background, in small transactions
// with pauses between them (four times as long as each took), so intake's commits are never held for long.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "daemon/config/yaml_reader.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::leads {

struct RetentionConfig {
  std::chrono::milliseconds contact_data{400LL * 86400000};
  std::chrono::milliseconds informational_leads{180LL * 86400000};
  std::chrono::milliseconds leads{0};  // 0: kept
  std::chrono::milliseconds check_every{600000};
  int batch = 5;                       // leads per transaction
  bool operator==(const RetentionConfig&) const = default;
};

std::span<const config::KeySpec> retention_keys();
RetentionConfig parse_retention_config(config::MapReader& r);

class RetentionWorker {
 public:
  RetentionWorker(store::Journal& journal, outbox::Backlog& backlog, std::filesystem::path state_dir,
                  RetentionConfig config);
  ~RetentionWorker();
  bool start(std::string& error);
  void stop();
  void set_config(const RetentionConfig& config);
  // Leads whose contact data this worker removed, and leads it deleted, since start.
  std::int64_t cleared() const { return cleared_.load(); }
  std::int64_t deleted() const { return deleted_.load(); }

 private:
  void run();
  void pass();
  // One batch; how many leads it handled (0: nothing left), or -1 when the store refused.
  int clear_batch(const RetentionConfig& c, std::int64_t now_ms);
  int delete_batch(const RetentionConfig& c, std::int64_t now_ms);
  bool pause(std::chrono::milliseconds how_long);

  store::Journal& journal_;
  outbox::Backlog& backlog_;
  std::filesystem::path state_dir_;
  std::unique_ptr<store::Reader> store_;
  std::mutex mutex_;
  RetentionConfig config_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<std::int64_t> cleared_{0}, deleted_{0};
  std::thread thread_;
};

}  // namespace leadrelay::leads
