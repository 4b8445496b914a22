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

}  // namespace
}  // namespace leadrelay::util
