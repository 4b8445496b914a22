#include <gtest/gtest.h>

#include "daemon/log/log.hpp"
#include "daemon/log/redact.hpp"

namespace leadrelay::log {
namespace {

TEST(Redact, MasksEmailsAndPhones) {
  EXPECT_EQ(redact("mail jane.doe+x@contoso.co.uk now"), "mail [email] now");
  EXPECT_EQ(redact("call +1 (617) 555-5555 today"), "call [phone] today");
  EXPECT_EQ(redact("16175555555"), "[phone]");
  EXPECT_EQ(redact("a@b.io and c@d.io"), "[email] and [email]");
}

TEST(Redact, KeepsOrdinaryText) {
  EXPECT_EQ(redact("line 12, column 7: expected a map"), "line 12, column 7: expected a map");
  EXPECT_EQ(redact("port 8080"), "port 8080");
  EXPECT_EQ(redact("user@localhost"), "user@localhost");  // no dotted domain: not an address
  EXPECT_EQ(redact("@ sign alone"), "@ sign alone");
  EXPECT_EQ(redact(""), "");
}

TEST(LogLine, IsJsonWithRedactedFreeTextAndSafeIds) {
  const auto line = format_line(Level::Warn, "lead_rejected",
                                {{"message", "bad value jane@contoso.com"},
                                 safe("lead_id", "01900000-0000-7000-8000-000000000000"),
                                 {"status", 400},
                                 {"ok", false}});
  EXPECT_NE(line.find(R"("level":"warn")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("event":"lead_rejected")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("message":"bad value [email]")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("lead_id":"01900000-0000-7000-8000-000000000000")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("status":400)"), std::string::npos) << line;
  EXPECT_EQ(line.find("contoso"), std::string::npos) << line;
}

TEST(LogTime, FormatsUtcMilliseconds) {
  EXPECT_EQ(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc_ms(1732320000123), "2024-11-23T00:00:00.123Z");
}

}  // namespace
}  // namespace leadrelay::log
