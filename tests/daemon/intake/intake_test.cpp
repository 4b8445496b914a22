// Intake's pure decisions: routing, methods, credentials, content types and body parsing.
#include "daemon/intake/intake.hpp"

#include <gtest/gtest.h>

#include "daemon/util/standard_webhooks.hpp"
#include "daemon/intake/canonical.hpp"
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
  std::string replay_key;
  ASSERT_TRUE(in.on_body(*source, R"({"UserDetails":{"Email":"a@b.io"}})", 1732320000000, lead, replay_key, error));
  EXPECT_EQ(replay_key, "");  // these test sources leave the replay window at 0: detection off
  EXPECT_TRUE(model::is_lead_id(lead.lead_id));
  EXPECT_EQ(model::lead_id_time_ms(lead.lead_id), 1732320000000);
  EXPECT_EQ(lead.source_name, "marketplace");
  EXPECT_EQ(lead.format, "ms-marketplace");
  EXPECT_EQ(testing::lead_schema_errors(model::to_json(lead)), "");
}

SourceConfig hmac_source(std::vector<std::string> secrets) {
  SourceConfig h;
  h.name = "signed";
  h.path = "/leads/signed";
  h.format = "ms-marketplace";
  h.auth.type = AuthType::Hmac;
  h.auth.secrets = std::move(secrets);
  return h;
}

TEST(IntakeBody, HmacSourceChecksTheSignedBody) {
  const Intake in({hmac_source({"old-key-old-key-old-key", "new-key-new-key-new-key"})});
  // The head passes: the signature covers the body, which is not read yet.
  EXPECT_EQ(head(in, "POST", "/leads/signed").route, Route::Lead);
  const auto* source = in.sources().front().get();
  const std::string body = R"({"UserDetails":{"Email":"a@b.io"}})";
  const std::int64_t now_ms = 1732310000000;  // before the times other tests use: lead ids are monotonic
  const std::int64_t ts = now_ms / 1000;
  const auto accept = [&](std::string_view id, std::int64_t timestamp, const std::string& signature,
                          std::string_view sent_body) {
    model::Lead lead;
    Rejection error;
    std::string replay_key;
    const auto t = std::to_string(timestamp);
    const bool ok = in.on_body(*source, sent_body, now_ms, lead, replay_key, error, {}, {id, t, signature});
    if (!ok) {
      EXPECT_EQ(error.status, 401);
    }
    return ok;
  };
  const auto sig = [&](const char* key, std::int64_t timestamp, std::string_view b = {}) {
    return util::standard_webhooks::sign({key}, "msg_1", timestamp, b.empty() ? std::string_view(body) : b);
  };
  EXPECT_TRUE(accept("msg_1", ts, sig("new-key-new-key-new-key", ts), body));
  EXPECT_TRUE(accept("msg_1", ts, sig("old-key-old-key-old-key", ts), body));  // rotation: either secret
  EXPECT_TRUE(accept("msg_1", ts, "v1,bm90IGl0 " + sig("new-key-new-key-new-key", ts), body));  // one of several
  EXPECT_TRUE(accept("msg_1", ts - 299, sig("new-key-new-key-new-key", ts - 299), body));  // within 5 minutes
  EXPECT_FALSE(accept("msg_1", ts - 301, sig("new-key-new-key-new-key", ts - 301), body));  // stale: a replay
  EXPECT_FALSE(accept("msg_1", ts + 301, sig("new-key-new-key-new-key", ts + 301), body));  // from the future
  EXPECT_FALSE(accept("msg_1", ts, sig("wrong-key-wrong-key", ts), body));
  EXPECT_FALSE(accept("msg_2", ts, sig("new-key-new-key-new-key", ts), body));              // another id
  EXPECT_FALSE(accept("msg_1", ts, sig("new-key-new-key-new-key", ts), R"({"UserDetails":{"Email":"x@b.io"}})"));
  EXPECT_FALSE(accept("", ts, sig("new-key-new-key-new-key", ts), body));
  EXPECT_FALSE(accept("msg_1", ts, "", body));
}

TEST(IntakeBody, HmacTimestampsAtTheLimitsAreComparedWithoutOverflow) {
  // A peer chooses webhook-timestamp: every value is refused or judged without signed overflow (UBSan would stop
  // this test otherwise), and none outside the tolerance passes, however its signature was made.
  const SourceAuth auth(hmac_source({"new-key-new-key-new-key"}).auth);
  const std::string body = "{}";
  const std::int64_t now_ms = 1732310000000;
  const auto passes = [&](const std::string& timestamp, std::int64_t signed_as) {
    const auto sig = util::standard_webhooks::sign({"new-key-new-key-new-key"}, "msg_1", signed_as, body);
    return auth.check_signature("msg_1", timestamp, sig, body, now_ms);
  };
  const auto max = std::to_string(kMaxTimestampSeconds);
  EXPECT_TRUE(passes(std::to_string(now_ms / 1000), now_ms / 1000));  // the control: a fresh timestamp passes
  EXPECT_FALSE(passes("0", 0));                                         // 1970: stale
  EXPECT_FALSE(passes(max, static_cast<std::int64_t>(kMaxTimestampSeconds)));  // year 9999: from the future
  EXPECT_FALSE(passes(std::to_string(kMaxTimestampSeconds + 1), 0));   // past it: refused unread
  EXPECT_FALSE(passes("9223372036854775807", 0));                      // int64 max: * 1000 would overflow
  EXPECT_FALSE(passes("18446744073709551615", 0));                     // u64 max
  EXPECT_FALSE(passes("18446744073709551616", 0));                     // u64 max + 1
  EXPECT_FALSE(passes("-1", -1));                                      // negative
  EXPECT_FALSE(passes("-9223372036854775808", 0));
  EXPECT_FALSE(passes("3887951197068678452", 0));                      // the fuzzer's: 20 digits after the zeros
  EXPECT_FALSE(passes("00000000000000000000000000000000017828249724881976832", 0));
  EXPECT_FALSE(passes("99999999999999999999", 0));                     // 20 digits
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

// An object of `n` members k0..k{n-1}, with `extra` appended as further members.
std::string members(int n, const std::string& extra = "") {
  std::string json = "{";
  for (int i = 0; i < n; ++i) json += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  return json + extra + "}";
}

TEST(ObjectReader, DuplicateKeysIgnoringCaseInSmallAndLargeObjects) {
  // 2 and 29 members (32 with the three added): each pair compared; 40 and 200: sorted.
  for (const int n : {2, 29, 40, 200}) {
    SCOPED_TRACE(n);
    rapidjson::Document doc;
    Rejection error;
    ASSERT_TRUE(parse_json_object(members(n), doc, error));
    EXPECT_TRUE(ObjectReader(doc, "").check_unique_keys(error));
    // Two duplicates: the one named is the same whatever their order (the smallest, lower-cased).
    for (const char* extra : {R"(,"Zeta":2,"K1":2,"zETA":3)", R"(,"K1":2,"Zeta":2,"zETA":3)"}) {
      ASSERT_TRUE(parse_json_object(members(n, extra), doc, error));
      EXPECT_FALSE(ObjectReader(doc, "UserDetails").check_unique_keys(error));
      EXPECT_EQ(error.code, "duplicate_key");
      EXPECT_EQ(error.field, "UserDetails.k1");
    }
  }
}

TEST(ObjectReader, StringsAreTrimmedAndControlCharactersReplaced) {
  rapidjson::Document doc;
  Rejection error;
  ASSERT_TRUE(parse_json_object(R"({"plain":"  Jane Doe \t","ctl":" a\u0001b\u007fc\r\n",)"
                                R"("multi":"\r\n line\r\n\tnext \u0002 ",)"
                                R"("fast":"  Jane  Doe  ","blank":" \u0003 ","empty":"","null":null,"num":1})",
                                doc, error))
      << error.message;
  const ObjectReader r(doc, "");
  std::string out = "left over";
  EXPECT_TRUE(r.string("PLAIN", out, error));
  EXPECT_EQ(out, "Jane Doe");
  EXPECT_TRUE(r.string("fast", out, error));
  EXPECT_EQ(out, "Jane  Doe");
  EXPECT_TRUE(r.string("ctl", out, error));
  EXPECT_EQ(out, "a b c");
  EXPECT_TRUE(r.string("multi", out, error, true));
  EXPECT_EQ(out, "line\n\tnext");
  EXPECT_TRUE(r.string("multi", out, error));
  EXPECT_EQ(out, "line   next");
  EXPECT_TRUE(r.string("blank", out, error));
  EXPECT_EQ(out, "");
  out = "x";
  EXPECT_TRUE(r.string("empty", out, error));
  EXPECT_EQ(out, "");
  out = "x";
  EXPECT_TRUE(r.string("null", out, error));
  EXPECT_EQ(out, "");
  out = "x";
  EXPECT_TRUE(r.string("absent", out, error));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(r.string("num", out, error));
  EXPECT_EQ(error.code, "wrong_type");
}

}  // namespace
}  // namespace leadrelay::intake

namespace leadrelay::intake {
namespace {

std::string digest(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return canonical_digest(d);
}

TEST(Canonical, KeyOrderWhitespaceAndKeyCaseDoNotMatter) {
  const auto a = digest(R"({"UserDetails":{"FirstName":"Jane","Email":"j@x.io"},"ActionCode":"INS"})");
  EXPECT_EQ(a, digest("{ \"ActionCode\" : \"INS\",\n  \"UserDetails\": {\"Email\": \"j@x.io\", \"FirstName\": \"Jane\"} }"));
  EXPECT_EQ(a, digest(R"({"actioncode":"INS","userDetails":{"email":"j@x.io","firstname":"Jane"}})"));
  EXPECT_EQ(a, digest(R"({"UserDetails":{"FirstName":"  Jane ","Email":"j@x.io"},"ActionCode":"INS"})"));
  EXPECT_EQ(digest(R"({"d":"two  words\tand\nmore"})"), digest(R"({"d":"two words and more"})"));
}

TEST(Canonical, UnicodeNormalisationFormDoesNotMatter) {
  // "José" precomposed (U+00E9) and decomposed (e + U+0301) are the same name.
  EXPECT_EQ(digest("{\"n\":\"Jos\u00e9\"}"), digest("{\"n\":\"Jose\u0301\"}"));
  rapidjson::Document decomposed;
  decomposed.Parse("{\"n\":\"Jose\u0301\"}");
  EXPECT_EQ(canonical_json(decomposed), "{\"n\":\"Jos\u00e9\"}");
}

TEST(Canonical, ValuesStillMatter) {
  const auto a = digest(R"({"UserDetails":{"Email":"j@x.io"}})");
  EXPECT_NE(a, digest(R"({"UserDetails":{"Email":"k@x.io"}})"));
  EXPECT_NE(a, digest(R"({"UserDetails":{"Email":"J@x.io"}})"));  // values keep their case
  EXPECT_NE(digest(R"({"a":[1,2]})"), digest(R"({"a":[2,1]})"));  // arrays keep their order
  EXPECT_NE(digest(R"({"a":"1"})"), digest(R"({"a":1})"));
  EXPECT_EQ(a.rfind("sha256:", 0), 0u);
  EXPECT_EQ(a.size(), 7u + 64u);
}

TEST(ReplayKey, FromBodyHeaderOrJsonPointer) {
  auto configs = sources();
  configs[0].replay_window = std::chrono::hours(24);
  configs[1].replay_window = std::chrono::hours(24);
  configs[1].idempotency_header = "Idempotency-Key";
  SourceConfig by_pointer = configs[0];
  by_pointer.name = "pointer";
  by_pointer.path = "/p";
  by_pointer.idempotency_json_pointer = "/Meta/Id";
  configs.push_back(by_pointer);
  const Intake in(configs);
  model::Lead lead;
  Rejection error;
  std::string k1, k2, k3;
  ASSERT_TRUE(in.on_body(*in.sources()[0], R"({"UserDetails":{"Email":"a@b.io"}})", 1, lead, k1, error));
  ASSERT_TRUE(in.on_body(*in.sources()[0], R"({ "userdetails" : { "email" : "a@b.io" } })", 2, lead, k2, error));
  EXPECT_EQ(k1, k2);
  EXPECT_EQ(k1.rfind("marketplace|sha256:", 0), 0u);
  ASSERT_TRUE(in.on_body(*in.sources()[1], R"({"UserDetails":{"Email":"a@b.io"}})", 3, lead, k3, error, "abc-123"));
  EXPECT_EQ(k3, "proxy|header:abc-123");
  ASSERT_TRUE(in.on_body(*in.sources()[2], R"({"Meta":{"Id":"x7"},"UserDetails":{}})", 4, lead, k3, error));
  EXPECT_EQ(k3, "pointer|json:\"x7\"");
  // Without the header or the pointer's value, the body decides.
  ASSERT_TRUE(in.on_body(*in.sources()[1], R"({"UserDetails":{"Email":"a@b.io"}})", 5, lead, k3, error));
  EXPECT_EQ(k3.rfind("proxy|sha256:", 0), 0u);
}

}  // namespace
}  // namespace leadrelay::intake
