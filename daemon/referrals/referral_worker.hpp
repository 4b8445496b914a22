#pragma once
// Partner Center referrals, after intake (on its own thread, never on the sender's path):
//   - fetches the referral each journaled webhook event names (the outbox's "fetch:partner-center" deliveries):
//     an outage, a 429 or a 5xx delays it with backoff (Retry-After honoured; the event stays on disk), a 404 or a
//     malformed referral becomes a dead letter with the reason;
//   - polls every partner_center.poll_interval for referrals updated since the stored watermark (paged by
//     @odata.nextLink), the backstop for events Partner Center gave up on;
//   - takes each referral it gets: one it has no lead for is journaled (as `pc-referral/resource`) and becomes a
//     lead through the pipeline like any other; for one it has, Partner Center's status and deal are applied to
//     the lead's lifecycle as a change by `partner-center`. A referral is one lead, however often it comes.
#include <rapidjson/document.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "connectors/pc_referral/referrals_client.hpp"
#include "daemon/leads/changes.hpp"
#include "daemon/outbox/backlog.hpp"
#include "daemon/store/journal.hpp"
#include "daemon/store/reader.hpp"

namespace leadrelay::referrals {

class ReferralWorker {
 public:
  // `poll_source`: the source name leads found by the poll are filed under (the first pc-referral source).
  ReferralWorker(store::Journal& journal, std::filesystem::path state_dir, outbox::Backlog& backlog,
                 leads::Changes& changes, const connectors::pc_referral::PartnerCenterConfig& config,
                 std::shared_ptr<connectors::pc_referral::TokenSource> tokens, std::string poll_source);
  ~ReferralWorker();

  bool start(std::string& error);
  // New fetches may be waiting.
  void notify();
  void stop();

 private:
  enum class Taken { Done, Later, Failed };
  struct Retry {
    int attempts = 0;
    std::chrono::steady_clock::time_point due{};
  };

  void run();
  // One pass over the pending fetches that are due; the soonest time a waiting one is due again.
  std::chrono::steady_clock::time_point fetch_due();
  // One poll, page by page; false when it must be tried again sooner than the next interval.
  bool poll();
  // Takes one referral resource (`raw` its JSON) under `source`.
  Taken take(const rapidjson::Value& resource, const std::string& raw, const std::string& source,
             std::string& problem);
  std::chrono::milliseconds backoff(int attempts, std::chrono::milliseconds asked);
  bool pause_until(std::chrono::steady_clock::time_point when);

  store::Journal& journal_;
  std::filesystem::path state_dir_;
  outbox::Backlog& backlog_;
  leads::Changes& changes_;
  const connectors::pc_referral::PartnerCenterConfig config_;
  connectors::pc_referral::ReferralsClient client_;
  std::string poll_source_;
  std::unique_ptr<store::Reader> store_;
  std::map<std::int64_t, Retry> retries_;  // fetches that failed, by delivery id
  int poll_failures_ = 0;
  std::chrono::steady_clock::time_point next_poll_{};
  std::mt19937_64 random_{std::random_device{}()};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool work_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace leadrelay::referrals
