// Intake's pure decisions: routing, methods, credentials, content types and body parsing.
#include "daemon/intake/intake.hpp"

#include <gtest/gtest.h>

#include "daemon/intake/json_body.hpp"
#include "daemon/model/lead_id.hpp"
#include "tests/support/lead_schema.hpp"

namespace leadrelay::intake {
namespace {

constexpr const char* kSecret = "s3cret-s3cret-s3cret";

std::vector<SourceConfig> sources() {
  SourceConfig q;
  q.name = "marketplace";
  q.path = "/leads/marketplace";
  q.format = "ms-marketplace";
  q.auth.type = AuthType::QuerySecret;
  q.auth.param = "code";
  q.auth.secrets = {"old-secret-old-secret", kSecret};
  SourceConfig b = q;
  b.name = "proxy";
  b.path = "/leads/proxy";
  b.auth.type = AuthType::Bearer;
  b.auth.secrets = {kSecret};
  return {q, b};
}

HeadDecision head(const Intake& in, std::string_view method, std::string_view target,
                  std::string_view content_type = "application/json", std::string_view authorization = "") {
  return in.on_head({method, target, content_type, authorization});
}

TEST(IntakeHead, RoutesAndRefuses) {
  const Intake in(sources());
  EXPECT_EQ(head(in, "GET", "/healthz").route, Route::Healthz);
  EXPECT_EQ(head(in, "GET", "/readyz").route, Route::Readyz);
  const auto post_health = head(in, "POST", "/healthz");
  EXPECT_EQ(post_health.rejection.status, 405);
  EXPECT_EQ(post_health.allow, "GET, HEAD");

  const auto ok = head(in, "POST", "/leads/marketplace?code=s3cret-s3cret-s3cret");
  ASSERT_EQ(ok.route, Route::Lead);
  EXPECT_EQ(ok.source->config.name, "marketplace");
  // The old secret still works during a rotation; URL-encoding is decoded; other params are ignored.
  EXPECT_EQ(head(in, "POST", "/leads/marketplace?code=old-secret-old-secret").route, Route::Lead);
  EXPECT_EQ(head(in, "POST", "/leads/marketplace?x=1&code=s3cret%2Ds3cret-s3cret&y").route, Route::Lead);

  EXPECT_EQ(head(in, "POST", "/nope").rejection.status, 404);
  EXPECT_EQ(head(in, "POST", "/leads/marketplace/").rejection.status, 404);
  const auto get = head(in, "GET", "/leads/marketplace?code=s3cret-s3cret-s3cret");
  EXPECT_EQ(get.rejection.status, 405);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_EQ(head(in, "PUT", "/leads/marketplace").rejection.status, 405);
}

TEST(IntakeHead, AuthenticationFailuresAreAllAlike) {
  const Intake in(sources());
  for (const auto* target : {"/leads/marketplace", "/leads/marketplace?code=", "/leads/marketplace?code=wrong",
                             "/leads/marketplace?Code=s3cret-s3cret-s3cret",
                             "/leads/marketplace?code=s3cret-s3cret-s3cre",
                             "/leads/marketplace?code=s3cret-s3cret-s3cretX"}) {
    const auto d = head(in, "POST", target);
    EXPECT_EQ(d.route, Route::Reject) << target;
    EXPECT_EQ(d.rejection.status, 401) << target;
    EXPECT_EQ(error_body(d.rejection), R"({"error":"unauthorized","message":"authentication failed"})");
  }
}

TEST(IntakeHead, BearerSource) {
  const Intake in(sources());
  EXPECT_EQ(head(in, "POST", "/leads/proxy", "application/json", "Bearer s3cret-s3cret-s3cret").route, Route::Lead);
  EXPECT_EQ(head(in, "POST", "/leads/proxy", "application/json", "bearer   s3cret-s3cret-s3cret ").route, Route::Lead);
  EXPECT_EQ(head(in, "POST", "/leads/proxy", "application/json", "Basic s3cret-s3cret-s3cret").rejection.status, 401);
  // A bearer source does not take the secret from the URL.
  EXPECT_EQ(head(in, "POST", "/leads/proxy?code=s3cret-s3cret-s3cret").rejection.status, 401);
}

TEST(IntakeHead, ContentTypes) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON"));
  EXPECT_TRUE(is_json_content_type("application/json; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/json;charset=\"UTF-8\""));
  EXPECT_FALSE(is_json_content_type(""));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_content_type("application/json; charset=iso-8859-1"));
  EXPECT_FALSE(is_json_content_type("application/jsonp"));
  const Intake in(sources());
  EXPECT_EQ(head(in, "POST", "/leads/marketplace?code=s3cret-s3cret-s3cret", "text/plain").rejection.status, 415);
}

TEST(IntakeBody, StampsIdTimeAndSource) {
  const Intake in(sources());
  const auto* source = in.sources().front().get();
  model::Lead lead;
  Rejection error;
  ASSERT_TRUE(in.on_body(*source, R"({"UserDetails":{"Email":"a@b.io"}})", 1732320000000, lead, error));
  EXPECT_TRUE(model::is_lead_id(lead.lead_id));
  EXPECT_EQ(model::lead_id_time_ms(lead.lead_id), 1732320000000);
  EXPECT_EQ(lead.source_name, "marketplace");
  EXPECT_EQ(lead.format, "ms-marketplace");
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(lead)), "");
}

struct BodyCase {
  std::string body;
  const char* code;
};

class BodyRefusal : public ::testing::TestWithParam<BodyCase> {};

TEST_P(BodyRefusal, IsA400WithACode) {
  rapidjson::Document doc;
  Rejection error;
  ASSERT_FALSE(parse_json_object(GetParam().body, doc, error));
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.code, GetParam().code) << error.message;
  EXPECT_FALSE(error.message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, BodyRefusal,
    ::testing::Values(BodyCase{"", "empty_body"}, BodyCase{"  \r\n ", "empty_body"},
                      BodyCase{"not json", "invalid_json"}, BodyCase{"{\"a\":", "invalid_json"},
                      BodyCase{"{} {}", "invalid_json"}, BodyCase{"{}x", "invalid_json"},
                      BodyCase{"{'a': 1}", "invalid_json"}, BodyCase{"{\"a\": NaN}", "invalid_json"},
                      BodyCase{"[]", "not_an_object"}, BodyCase{"[{\"UserDetails\":{}}]", "not_an_object"},
                      BodyCase{"\"text\"", "not_an_object"}, BodyCase{"42", "not_an_object"},
                      BodyCase{"null", "not_an_object"}, BodyCase{"{\"a\":\"\xff\xfe\"}", "invalid_utf8"},
                      BodyCase{"{\"a\":\"\xc0\xaf\"}", "invalid_utf8"},            // overlong '/'
                      BodyCase{"{\"a\":\"\xed\xa0\x80\"}", "invalid_utf8"},        // UTF-16 surrogate
                      BodyCase{"{\"a\":\"\\ud800\"}", "invalid_json"},             // lone escaped surrogate
                      BodyCase{std::string(100000, '['), "too_deep"},
                      BodyCase{"{\"a\":" + std::string(33, '[') + std::string(33, ']') + "}", "too_deep"}));

TEST(IntakeBody, DepthLimitCountsOnlyRealNesting) {
  rapidjson::Document doc;
  Rejection error;
  // Brackets inside strings are not nesting.
  EXPECT_TRUE(parse_json_object(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[["})", doc, error)) << error.message;
  // 32 levels are allowed.
  const std::string deep = std::string(31, '[');
  EXPECT_TRUE(parse_json_object("{\"a\":" + deep + std::string(31, ']') + "}", doc, error)) << error.message;
}

}  // namespace
}  // namespace leadrelay::intake
