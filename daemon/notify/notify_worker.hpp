#pragma once
// The notifications that are not sent as a lead arrives: each rule's digest of a day, at `digest_at` the next
// morning (built from the store, so a restart at 07:59 still sends it at 08:00, and its key makes it once), and
// the warning before a Received lead expires. Each is written with its outbox deliveries in one transaction; the
// outbox's workers send them.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/notify/notify_config.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::notify {

class NotifyWorker {
 public:
  NotifyWorker(store::Journal& journal, std::filesystem::path state_dir, std::shared_ptr<const NotifyConfig> config,
               std::function<void(const store::DeliveryTotals&)> on_added);
  ~NotifyWorker();
  bool start(std::string& error);
  void stop();
  // Rules changed by a reload.
  void set_config(std::shared_ptr<const NotifyConfig> config);

 private:
  void run();
  // Makes what is due; returns when to look again (Unix ms).
  std::int64_t pass(std::int64_t now_ms);
  std::int64_t digests(const NotifyConfig& c, std::int64_t now_ms);
  void warnings(const NotifyConfig& c, std::int64_t now_ms);
  bool record(std::vector<store::Notification> batch);

  store::Journal& journal_;
  std::filesystem::path state_dir_;
  std::function<void(const store::DeliveryTotals&)> on_added_;
  std::unique_ptr<store::Reader> store_;
  std::mutex mutex_;
  std::shared_ptr<const NotifyConfig> config_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace leadrelay::notify
