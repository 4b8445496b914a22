// What leadrelay reads from the answers of the services it calls, at the limits: Retry-After (delta-seconds and
// HTTP dates), and whole answers with Content-Length and chunked bodies whose sizes a peer controls.
#include <gtest/gtest.h>

#include "connectors/http/response.hpp"

namespace leadrelay::connectors::http {
namespace {
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::time_t kNow = 1795500000;  // 2026-11-24T...Z

milliseconds after(const std::string& value) {
  Response r;
  r.status = 429;
  r.headers["retry-after"] = value;
  return retry_after(r, kNow);
}

TEST(RetryAfter, DeltaSecondsAtTheLimits) {
  EXPECT_EQ(after("0"), seconds(0));
  EXPECT_EQ(after("120"), seconds(120));
  EXPECT_EQ(after(" 7 "), seconds(7));
  EXPECT_EQ(after(std::to_string(kMaxRetryAfter.count())), kMaxRetryAfter);      // the cap itself
  EXPECT_EQ(after(std::to_string(kMaxRetryAfter.count() + 1)), kMaxRetryAfter);  // one past it: the cap
  EXPECT_EQ(after("18446744073709551615"), kMaxRetryAfter);                       // 2^64-1
  EXPECT_EQ(after("18446744073709551616"), kMaxRetryAfter);                       // 2^64: no overflow
  EXPECT_EQ(after("00000000000000000000000000000000017828249724881976832"), kMaxRetryAfter);  // 51 digits
  EXPECT_EQ(after("-1"), seconds(0));  // not a delta-seconds, not a date: unreadable
  EXPECT_EQ(after("-9223372036854775808"), seconds(0));
  EXPECT_EQ(after("1.5"), seconds(0));
  EXPECT_EQ(after(""), seconds(0));
  EXPECT_EQ(retry_after(Response{}, kNow), seconds(0));  // absent
}

TEST(RetryAfter, HttpDatesAtTheLimits) {
  EXPECT_EQ(after("Tue, 24 Nov 2026 16:00:00 GMT"), seconds(1795536000 - kNow));
  EXPECT_EQ(after("Thu, 01 Jan 1970 00:00:00 GMT"), seconds(0));  // in the past
  EXPECT_EQ(after("Fri, 31 Dec 9999 23:59:59 GMT"), kMaxRetryAfter);  // the latest date: the cap
  EXPECT_EQ(after("Sat, 01 Jan 10000 00:00:00 GMT"), seconds(0));     // past year 9999: unreadable
  EXPECT_EQ(after("Mon, 01 Jan 99999999999 00:00:00 GMT"), seconds(0));
  EXPECT_EQ(after("Tue, 24 Nov 2026 16:00:00 GMT trailing"), seconds(0));
  EXPECT_EQ(after("Tue, 24 Nov 2026 16:00:00"), seconds(0));
}

TEST(ParseResponse, ContentLengthAtTheLimits) {
  Response r;
  std::string error;
  ASSERT_TRUE(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", r, error)) << error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  ASSERT_TRUE(parse_response("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\n{}", r, error)) << error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers.at("x-a"), "b");
  EXPECT_EQ(r.body, "{}");
  const auto refused = [](const std::string& length) {
    Response out;
    std::string why;
    return !parse_response("HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\n\r\n{}", out, why) && !why.empty();
  };
  EXPECT_TRUE(refused("18446744073709551615"));  // 2^64-1: past the body limit
  EXPECT_TRUE(refused("18446744073709551616"));  // 2^64: overflow, refused
  EXPECT_TRUE(refused("-1"));
  EXPECT_TRUE(refused("99999999999999999999"));  // 20 digits
  EXPECT_TRUE(refused(std::to_string(kMaxResponseBody + 1)));
  EXPECT_TRUE(refused("3"));  // longer than what came: the answer is cut short
}

TEST(ParseResponse, AContentLengthPastTheLimitIsRefusedBeforeTheBody) {
  // fuzz_http_response's finding: with body bytes in the same read, Beast 1.74's eager response parser went on
  // past its own body_limit error and reserved the announced length (std::bad_alloc).
  for (const std::string status : {"200 OK", "207 Multi-Status", "503 Service Unavailable"}) {
    Response r;
    std::string error;
    EXPECT_FALSE(parse_response("HTTP/1.1 " + status + "\r\nContent-Length: 71322631598739000\r\n\r\n{\"x\":1}", r,
                                error));
    EXPECT_EQ(error, "body limit exceeded");
    EXPECT_FALSE(parse_response("HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(kMaxResponseBody + 1) +
                                    "\r\n\r\nab",
                                r, error));
    EXPECT_EQ(error, "body limit exceeded");
  }
}

TEST(ParseResponse, ChunkSizesAtTheLimits) {
  Response r;
  std::string error;
  ASSERT_TRUE(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", r, error))
      << error;
  EXPECT_EQ(r.body, "{}");
  ASSERT_TRUE(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", r, error)) << error;
  EXPECT_EQ(r.body, "");
  const auto refused = [](const std::string& size) {
    Response out;
    std::string why;
    return !parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n{}\r\n0\r\n\r\n",
                           out, why) &&
           !why.empty();
  };
  EXPECT_TRUE(refused("ffffffffffffffff"));   // 2^64-1
  EXPECT_TRUE(refused("10000000000000000"));  // 2^64
  EXPECT_TRUE(refused("-1"));
  EXPECT_TRUE(refused("99999999999999999999"));  // 20 digits
  EXPECT_TRUE(refused("zz"));
}

TEST(ParseResponse, BodyUntilCloseAndMalformedHeads) {
  Response r;
  std::string error;
  ASSERT_TRUE(parse_response("HTTP/1.1 200 OK\r\n\r\nuntil close", r, error)) << error;
  EXPECT_EQ(r.body, "until close");
  EXPECT_FALSE(parse_response("", r, error));
  EXPECT_FALSE(parse_response("HTTP/1.1 2000 OK\r\n\r\n", r, error));
  EXPECT_FALSE(parse_response("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", r, error));
  EXPECT_FALSE(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 2", r, error));  // the head never ends
}

}  // namespace
}  // namespace leadrelay::connectors::http
