#include "daemon/intake/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace leadrelay::intake {

RateLimiter::RateLimiter(double rate, double burst, std::size_t max_keys)
    : rate_(rate), burst_(std::max(1.0, burst)), max_keys_(max_keys) {}

bool RateLimiter::allow(std::string_view key, Clock::time_point now, std::chrono::milliseconds& retry_after) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      std::erase_if(buckets_, [&](const auto& b) {
        const double refill = std::chrono::duration<double>(now - b.second.updated).count() * rate_;
        return b.second.tokens + refill >= burst_;
      });
      if (buckets_.size() >= max_keys_) buckets_.erase(buckets_.begin());
    }
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  auto& b = it->second;
  const double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.updated).count());
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / rate_ * 1000.0)));
  return false;
}

}  // namespace leadrelay::intake
