#pragma once
// Expires Received leads whose response window has passed: at start (leads that came due while the daemon was
// down expire at once), then at each next deadline, looking at least every minute and every response window (a lead that arrives
// meanwhile is due no sooner than one window later, so none is late by more than the minute).
// Each expiry is a change like any other (changes.hpp), by the actor "leadrelay", with its event.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/leads/changes.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::leads {

class ExpiryWorker {
 public:
  ExpiryWorker(Changes& changes, std::filesystem::path state_dir, std::chrono::milliseconds response_window);
  ~ExpiryWorker();
  // Expires what is already overdue, then starts the thread; false with `error` when the store cannot be read.
  bool start(std::string& error);
  void stop();
  // Leads expired since start.
  std::int64_t expired() const { return expired_.load(); }

 private:
  // Expires every overdue lead; returns when the next one is due (0: none waiting).
  std::int64_t expire_due();
  void run();

  Changes& changes_;
  std::filesystem::path state_dir_;
  std::int64_t max_sleep_ms_;
  std::unique_ptr<store::Reader> store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<std::int64_t> expired_{0};
  std::thread thread_;
};

}  // namespace leadrelay::leads
