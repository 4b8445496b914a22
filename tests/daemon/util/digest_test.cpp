// SHA-256 against FIPS 180-2's test vectors, from several threads (each keeps its own OpenSSL context), and the hex
// and base64 helpers.
#include "daemon/util/digest.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace leadrelay::util {
namespace {

constexpr const char* kEmptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Digest, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), kEmptyDigest);
  EXPECT_EQ(sha256_hex("abc"), kAbcDigest);
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Digest, Sha256FromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&wrong, t] {
      for (int i = 0; i < 2000; ++i) {
        const bool abc = i % 2 == 0;
        if (sha256_hex(abc ? "abc" : "") != (abc ? kAbcDigest : kEmptyDigest)) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(Digest, Base64RoundTripsWithPadding) {
  EXPECT_EQ(base64_encode("leadrelay"), "bGVhZHJlbGF5");
  EXPECT_EQ(base64_encode("lead"), "bGVhZA==");
  std::string bytes;
  ASSERT_TRUE(base64_decode(" bGVhZA== ", bytes));
  EXPECT_EQ(bytes, "lead");
  EXPECT_FALSE(base64_decode("bGVhZA=", bytes));
}

}  // namespace
}  // namespace leadrelay::util
