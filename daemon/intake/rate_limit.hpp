#pragma once
// Token buckets: `rate` requests per second on average, bursts of up to `burst`, one bucket per key (a source,
// or a client address). A refused request learns how long until a token is there (for Retry-After). The number
// of keys is bounded: when full, buckets that have refilled completely (idle clients) are dropped first.
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace leadrelay::intake {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double rate, double burst, std::size_t max_keys = 100000);

  // True when `key` may make a request now; else false with the wait until it may.
  bool allow(std::string_view key, Clock::time_point now, std::chrono::milliseconds& retry_after);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double rate_;
  double burst_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace leadrelay::intake
