// Token buckets with an injected clock: bursts, refill, the wait a refused request is told, key isolation and
// the bound on the number of keys.
#include "daemon/intake/rate_limit.hpp"

#include <gtest/gtest.h>

namespace leadrelay::intake {
namespace {
using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenRate) {
  RateLimiter limiter(10, 3);  // 10/s, bursts of 3
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  std::chrono::milliseconds wait{0};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("a", t0, wait)) << i;
  EXPECT_FALSE(limiter.allow("a", t0, wait));
  EXPECT_EQ(wait, 100ms);  // one token every 100 ms
  EXPECT_FALSE(limiter.allow("a", t0 + 50ms, wait));
  EXPECT_EQ(wait, 50ms);
  EXPECT_TRUE(limiter.allow("a", t0 + 100ms, wait));
  EXPECT_FALSE(limiter.allow("a", t0 + 100ms, wait));
  // A long pause refills up to the burst, not beyond.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("a", t0 + 1h, wait)) << i;
  EXPECT_FALSE(limiter.allow("a", t0 + 1h, wait));
}

TEST(RateLimiter, KeysAreIndependentAndBounded) {
  RateLimiter limiter(1, 1, 2);
  const auto t0 = RateLimiter::Clock::time_point{} + 1h;
  std::chrono::milliseconds wait{0};
  EXPECT_TRUE(limiter.allow("10.0.0.1", t0, wait));
  EXPECT_FALSE(limiter.allow("10.0.0.1", t0, wait));
  EXPECT_TRUE(limiter.allow("10.0.0.2", t0, wait));  // another client has its own bucket
  // A third key while full: a bucket is dropped to make room, never an error.
  EXPECT_TRUE(limiter.allow("10.0.0.3", t0, wait));
}

}  // namespace
}  // namespace leadrelay::intake
