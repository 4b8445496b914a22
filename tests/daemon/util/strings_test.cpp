#include "daemon/util/strings.hpp"

#include <gtest/gtest.h>

namespace leadrelay::util {
namespace {

TEST(Strings, CaseInsensitive) {
  EXPECT_TRUE(iequals("UserDetails", "userdetails"));
  EXPECT_FALSE(iequals("UserDetails", "UserDetail"));
  EXPECT_EQ(ifind("hello MSFT_test_1", "msft_TEST_"), 6u);
  EXPECT_EQ(ifind("abc", "abcd"), std::string_view::npos);
}

TEST(Strings, ClosestMatch) {
  const std::vector<std::string_view> keys{"listen", "io_threads", "max_body_bytes"};
  EXPECT_EQ(closest_match("lisen", keys), "listen");
  EXPECT_EQ(closest_match("max_body_byte", keys), "max_body_bytes");
  EXPECT_EQ(closest_match("colour", keys), "");
}

TEST(Strings, UrlDecode) {
  EXPECT_EQ(url_decode("a%2Bb+c"), "a+b c");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(url_decode("%41"), "A");
}

TEST(Strings, ParseU64) {
  unsigned long long v = 0;
  EXPECT_TRUE(parse_u64("65535", v));
  EXPECT_EQ(v, 65535u);
  EXPECT_FALSE(parse_u64("", v));
  EXPECT_FALSE(parse_u64("-1", v));
  EXPECT_FALSE(parse_u64("12a", v));
  EXPECT_FALSE(parse_u64("99999999999999999999999", v));
}

TEST(Strings, ParseU64AtTheLimits) {
  unsigned long long v = 7;
  EXPECT_TRUE(parse_u64("0", v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_u64("18446744073709551615", v));  // 2^64-1
  EXPECT_EQ(v, 18446744073709551615ULL);
  EXPECT_FALSE(parse_u64("18446744073709551616", v));  // 2^64
  EXPECT_FALSE(parse_u64("99999999999999999999", v));  // 20 digits
  EXPECT_FALSE(parse_u64("+1", v));
  // Bounded: a peer's number is refused above the bound, and `out` keeps its value.
  v = 7;
  EXPECT_TRUE(parse_u64("100", 100, v));
  EXPECT_EQ(v, 100u);
  EXPECT_FALSE(parse_u64("101", 100, v));
  EXPECT_EQ(v, 100u);
  EXPECT_TRUE(parse_u64("0", 100, v));
  EXPECT_EQ(v, 0u);
  EXPECT_FALSE(parse_u64("-1", 100, v));
  EXPECT_FALSE(parse_u64("18446744073709551616", 18446744073709551615ULL, v));
  EXPECT_FALSE(parse_u64("00000000000000000000000000000000017828249724881976832", 1000, v));
}

}  // namespace
}  // namespace leadrelay::util
