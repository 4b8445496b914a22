// Config loading: the exact messages admins see, and that every declared key is read.
#include "daemon/app/config.hpp"
#include "daemon/config/yaml_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace leadrelay::app {
namespace {
using namespace leadrelay::config;  // the generic reader: parse_size, parse_duration, KeyType, ...

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("leadrelay-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "good.secret") << "# rotated 2026-11\n0123456789abcdef0123\nfedcba9876543210fedc\n";
    std::ofstream(dir_ / "short.secret") << "tooshort\n";
    std::ofstream(dir_ / "empty.secret") << "\n# nothing\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  LoadResult load(const std::string& yaml) { return load_config_text(yaml, "leadrelay.yaml", dir_); }

  std::vector<std::string> errors(const std::string& yaml) {
    std::vector<std::string> out;
    for (const auto& d : load(yaml).errors) out.push_back(d.to_string());
    return out;
  }

  static std::string with_source(const std::string& server, const std::string& auth) {
    return "state_dir: ./state\n" + server +
           "sources:\n"
           "  - name: marketplace\n"
           "    path: /leads/marketplace\n"
           "    format: ms-marketplace\n"
           "    auth:\n" +
           auth;
  }

  std::filesystem::path dir_;
};

const std::string kGoodAuth = "      secret_file: good.secret\n";

TEST_F(ConfigTest, MinimalConfigTakesDefaults) {
  const auto r = load(with_source("", kGoodAuth));
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const auto& c = *r.config;
  EXPECT_EQ(c.state_dir, dir_ / "state");
  ASSERT_EQ(c.server.listen.size(), 1u);
  EXPECT_EQ(c.server.listen[0].host, "127.0.0.1");
  EXPECT_EQ(c.server.listen[0].port, 8080);
  EXPECT_EQ(c.server.max_body_bytes, 64u * 1024);
  EXPECT_EQ(c.server.max_header_bytes, 8u * 1024);
  EXPECT_EQ(c.server.header_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.server.io_threads, 1);
  EXPECT_TRUE(c.journal.synchronous_full);
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].auth.type, intake::AuthType::QuerySecret);
  EXPECT_EQ(c.sources[0].auth.param, "code");
  // Comment lines are skipped; two secrets during a rotation.
  ASSERT_EQ(c.sources[0].auth.secrets.size(), 2u);
  EXPECT_EQ(c.sources[0].auth.secrets[0], "0123456789abcdef0123");
}

TEST_F(ConfigTest, ValuesWithUnits) {
  const auto r = load(with_source("server:\n  listen: ['[::1]:0', '0.0.0.0:9000']\n  max_body_bytes: 1MiB\n"
                                   "  header_timeout: 500ms\n  idle_timeout: 2m\n  io_threads: 4\n",
                                   kGoodAuth));
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  EXPECT_EQ(r.config->server.listen[0].host, "::1");
  EXPECT_EQ(r.config->server.listen[0].port, 0);
  EXPECT_EQ(r.config->server.listen[1].port, 9000);
  EXPECT_EQ(r.config->server.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(r.config->server.header_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(r.config->server.idle_timeout, std::chrono::minutes(2));
  EXPECT_EQ(r.config->server.io_threads, 4);
}

TEST_F(ConfigTest, UnknownKeyWithDidYouMean) {
  EXPECT_EQ(errors(with_source("server:\n  lisen: 127.0.0.1:8080\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:3: server.lisen: unknown key 'lisen'; did you mean 'listen'?"});
}

TEST_F(ConfigTest, UnknownKeyWithoutCloseMatchListsTheValidOnes) {
  EXPECT_EQ(errors(with_source("", kGoodAuth + "      colour: blue\n")),
            std::vector<std::string>{"leadrelay.yaml:8:7: sources[0].auth.colour: unknown key 'colour'; valid keys "
                                     "here: type, param, secret_file, secret_env, tolerance, certificate_hosts, "
                                     "certificate_subject, certificate_issuer, ca_file or certificate_cache"});
}

TEST_F(ConfigTest, UnknownTopLevelKey) {
  auto text = with_source("", kGoodAuth);
  text.replace(0, std::string("state_dir").size(), "state_dri");
  EXPECT_EQ(errors(text), (std::vector<std::string>{
                              "leadrelay.yaml:1:1: state_dri: unknown key 'state_dri'; did you mean 'state_dir'?",
                              "leadrelay.yaml:1:1: missing required key 'state_dir' (folder for the journal and all "
                              "other state; relative to the config file)"}));
}

TEST_F(ConfigTest, WrongType) {
  EXPECT_EQ(errors(with_source("server:\n  max_body_bytes: lots\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:19: server.max_body_bytes: expected a size such as 65536, "
                                     "64KiB or 1MiB, got 'lots'"});
  EXPECT_EQ(errors(with_source("server:\n  io_threads: [1, 2]\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:15: server.io_threads: expected integer, got a list"});
  EXPECT_EQ(errors(with_source("server:\n  header_timeout: 10\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:19: server.header_timeout: duration '10' needs a unit: "
                                     "write 10s, or use ms, m, h or d"});
  EXPECT_EQ(errors(with_source("server: [1]\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:2:9: server: expected a map, got a list"});
}

TEST_F(ConfigTest, OutOfRange) {
  EXPECT_EQ(errors(with_source("server:\n  io_threads: 0\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:15: server.io_threads: must be between 1 and 64, got 0"});
}

TEST(ConfigValues, SizesDurationsAndIntegersAtTheLimits) {
  // Sizes, durations and integers are bounded before they are multiplied: out of range is an error, never a wrap.
  std::uint64_t bytes = 1;
  std::string problem;
  EXPECT_TRUE(parse_size("0", bytes, problem));
  EXPECT_EQ(bytes, 0u);
  EXPECT_TRUE(parse_size("18446744073709551615", bytes, problem));  // 2^64-1
  EXPECT_EQ(bytes, 18446744073709551615ULL);
  EXPECT_FALSE(parse_size("18446744073709551616", bytes, problem));  // 2^64
  EXPECT_FALSE(parse_size("99999999999999999999", bytes, problem));  // 20 digits
  EXPECT_FALSE(parse_size("-1", bytes, problem));
  EXPECT_TRUE(parse_size("17179869183GiB", bytes, problem));          // the largest whole GiB in 64 bits
  EXPECT_EQ(bytes, 17179869183ULL << 30);
  EXPECT_FALSE(parse_size("17179869184GiB", bytes, problem));         // 2^64 bytes: * 2^30 would wrap
  EXPECT_NE(problem.find("expected a size"), std::string::npos);

  std::chrono::milliseconds ms{1};
  EXPECT_TRUE(parse_duration("0s", ms, problem));
  EXPECT_EQ(ms.count(), 0);
  constexpr std::int64_t kHundredYearsMs = 100LL * 365 * 86400000;  // the longest duration
  EXPECT_TRUE(parse_duration(std::to_string(kHundredYearsMs) + "ms", ms, problem));
  EXPECT_EQ(ms.count(), kHundredYearsMs);
  EXPECT_FALSE(parse_duration(std::to_string(kHundredYearsMs + 1) + "ms", ms, problem));
  EXPECT_TRUE(parse_duration("36500d", ms, problem));
  EXPECT_FALSE(parse_duration("36501d", ms, problem));
  EXPECT_FALSE(parse_duration("18446744073709551615d", ms, problem));  // * 86,400,000 would wrap
  EXPECT_FALSE(parse_duration("18446744073709551616s", ms, problem));
  EXPECT_FALSE(parse_duration("99999999999999999999h", ms, problem));  // 20 digits
  EXPECT_FALSE(parse_duration("-1s", ms, problem));
}

TEST_F(ConfigTest, IntegersPast64BitsAreErrors) {
  EXPECT_EQ(errors(with_source("server:\n  io_threads: 99999999999999999999\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:15: server.io_threads: expected an integer, got "
                                     "'99999999999999999999'"});
  EXPECT_EQ(errors(with_source("server:\n  io_threads: -9223372036854775809\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:15: server.io_threads: expected an integer, got "
                                     "'-9223372036854775809'"});
  EXPECT_EQ(errors(with_source("server:\n  io_threads: 9223372036854775807\n", kGoodAuth)),
            std::vector<std::string>{"leadrelay.yaml:3:15: server.io_threads: must be between 1 and 64, got "
                                     "9223372036854775807"});
}

TEST_F(ConfigTest, MissingRequiredKey) {
  EXPECT_EQ(errors("state_dir: s\nsources:\n  - name: mp\n    format: ms-marketplace\n    auth: {secret_file: "
                   "good.secret}\n"),
            std::vector<std::string>{"leadrelay.yaml:3:5: sources[0]: missing required key 'path' (the URL path "
                                     "the sender posts to, such as /leads/marketplace)"});
}

TEST_F(ConfigTest, BadListenAddress) {
  EXPECT_EQ(errors(with_source("server:\n  listen: ['127.0.0.1:99999', 'localhost:80', '10.0.0.1']\n", kGoodAuth)),
            (std::vector<std::string>{
                "leadrelay.yaml:3:12: server.listen[0]: invalid listen address '127.0.0.1:99999': port must be 0 to "
                "65535; expected IP:PORT such as 127.0.0.1:8080 or [::]:8080",
                "leadrelay.yaml:3:31: server.listen[1]: invalid listen address 'localhost:80': 'localhost' is not an "
                "IP address; expected IP:PORT such as 127.0.0.1:8080 or [::]:8080",
                "leadrelay.yaml:3:47: server.listen[2]: invalid listen address '10.0.0.1': missing port; expected "
                "IP:PORT such as 127.0.0.1:8080 or [::]:8080"}));
}

TEST_F(ConfigTest, UnreadableSecretFile) {
  EXPECT_EQ(errors(with_source("", "      secret_file: /nonexistent/leadrelay.secret\n")),
            std::vector<std::string>{"leadrelay.yaml:7:20: sources[0].auth.secret_file: cannot read secret file "
                                     "'/nonexistent/leadrelay.secret': No such file or directory"});
}

TEST_F(ConfigTest, WeakOrEmptySecret) {
  const auto shorter = errors(with_source("", "      secret_file: short.secret\n"));
  ASSERT_EQ(shorter.size(), 1u);
  EXPECT_NE(shorter[0].find("is 8 characters long; use at least 16"), std::string::npos) << shorter[0];
  const auto empty = errors(with_source("", "      secret_file: empty.secret\n"));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_NE(empty[0].find("holds no secret"), std::string::npos) << empty[0];
}

TEST_F(ConfigTest, SecretFromEnvironment) {
  ::setenv("LEADRELAY_TEST_SECRET", "aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb", 1);
  const auto r = load(with_source("", "      type: bearer\n      secret_env: LEADRELAY_TEST_SECRET\n"));
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  EXPECT_EQ(r.config->sources[0].auth.type, intake::AuthType::Bearer);
  EXPECT_EQ(r.config->sources[0].auth.secrets.size(), 2u);
  ::unsetenv("LEADRELAY_TEST_SECRET");
  EXPECT_EQ(errors(with_source("", "      secret_env: LEADRELAY_TEST_SECRET\n")),
            std::vector<std::string>{"leadrelay.yaml:7:19: sources[0].auth.secret_env: environment variable "
                                     "LEADRELAY_TEST_SECRET is not set; export it before starting leadrelay"});
}

TEST_F(ConfigTest, SecretsAreNeverInline) {
  EXPECT_EQ(errors(with_source("", "      type: bearer\n")),
            std::vector<std::string>{"leadrelay.yaml:7:13: sources[0].auth.type: give exactly one of secret_file or "
                                     "secret_env; secrets are never written in the config itself"});
  EXPECT_EQ(errors(with_source("", "      secret: abcdefabcdefabcdefabcdef\n")),
            (std::vector<std::string>{
                "leadrelay.yaml:7:7: sources[0].auth.secret: unknown key 'secret'; valid keys here: type, param, "
                "secret_file, secret_env, tolerance, certificate_hosts, certificate_subject, certificate_issuer, "
                "ca_file or certificate_cache",
                "leadrelay.yaml:7:7: sources[0].auth.type: give exactly one of secret_file or secret_env; secrets are "
                "never written in the config itself"}));
}

TEST_F(ConfigTest, UnknownFormatAndEnumValues) {
  auto text = with_source("logging:\n  level: verbose\n", kGoodAuth);
  text.replace(text.find("ms-marketplace"), 14, "ms-marketplac");
  EXPECT_EQ(errors(text),
            (std::vector<std::string>{
                "leadrelay.yaml:3:10: logging.level: unknown value 'verbose'; expected debug, info, warn or error",
                "leadrelay.yaml:7:13: sources[0].format: unknown format 'ms-marketplac'; did you mean "
                "'ms-marketplace'?"}));
}

TEST_F(ConfigTest, DuplicateSourcesAndReservedPaths) {
  const std::string text =
      "state_dir: s\nsources:\n"
      "  - {name: a, path: /x, format: ms-marketplace, auth: {secret_file: good.secret}}\n"
      "  - {name: a, path: /x, format: ms-marketplace, auth: {secret_file: good.secret}}\n"
      "  - {name: B!, path: /healthz, format: ms-marketplace, auth: {secret_file: good.secret}}\n";
  EXPECT_EQ(errors(text),
            (std::vector<std::string>{
                "leadrelay.yaml:4:12: sources[1].name: another source is already named 'a'",
                "leadrelay.yaml:4:21: sources[1].path: another source already listens on '/x'",
                "leadrelay.yaml:5:12: sources[2].name: 'B!' is not a valid name; use 1-64 of a-z, 0-9, '-' and '_'",
                "leadrelay.yaml:5:22: sources[2].path: '/healthz' is reserved for health checks and "
                "status; choose another path"}));
}

TEST_F(ConfigTest, DuplicateYamlKey) {
  EXPECT_EQ(errors(with_source("server:\n  io_threads: 1\n  io_threads: 2\n", kGoodAuth)),
            std::vector<std::string>{
                "leadrelay.yaml:4:3: server.io_threads: duplicate key 'io_threads': remove one of them"});
}

TEST_F(ConfigTest, YamlSyntaxError) {
  const auto e = errors("state_dir: [unclosed\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("leadrelay.yaml:", 0), 0u);
  EXPECT_NE(e[0].find("YAML syntax error"), std::string::npos) << e[0];
}

TEST_F(ConfigTest, ManyErrorsAreAllReported) {
  const auto e = errors("state_dir: s\nserver:\n  lisen: x\n  io_threads: nope\nsources: {}\n");
  EXPECT_EQ(e.size(), 3u);
}

TEST_F(ConfigTest, AdminTokensAreCheckedWithHints) {
  std::ofstream(dir_ / "ops.token") << "ops-0123456789abcdef\n";
  const auto admin = [](const std::string& tokens) {
    return with_source("admin:\n  tokens:\n" + tokens, kGoodAuth);
  };
  const auto ok = load(admin("    - {name: ops, role: operator, token_file: ops.token}\n"));
  ASSERT_TRUE(ok.config) << ok.errors.front().to_string();
  ASSERT_EQ(ok.config->admin.tokens.size(), 1u);
  EXPECT_EQ(ok.config->admin.tokens[0].role, "operator");
  EXPECT_EQ(ok.config->admin.tokens[0].digest.size(), 32u);  // the token itself is not kept
  const auto first = [&](const std::string& tokens) {
    const auto e = errors(admin(tokens));
    return e.empty() ? std::string() : e.front();
  };
  EXPECT_NE(first("    - {name: ops, role: root, token_file: ops.token}\n").find("admin.tokens[0].role"),
            std::string::npos);
  EXPECT_NE(first("    - {name: ops, role: viewer, token_file: none.token}\n").find("openssl rand -hex 32"),
            std::string::npos);
  EXPECT_NE(first("    - {name: ops, role: viewer, token_file: short.secret}\n").find("at least 16 characters"),
            std::string::npos);
  EXPECT_NE(first("    - {name: ops, role: viewer, token_file: ops.token, token_env: X}\n").find("exactly one"),
            std::string::npos);
  EXPECT_NE(first("    - {name: ops, role: viewer, token_env: LEADRELAY_TEST_UNSET_TOKEN}\n").find("is not set"),
            std::string::npos);
  EXPECT_NE(first("    - {name: ops, role: viewer, token_file: ops.token}\n"
                  "    - {name: ops, role: operator, token_file: good.secret}\n")
                .find("already named 'ops'"),
            std::string::npos);
  std::ofstream(dir_ / "ops2.token") << "ops-0123456789abcdef\n";
  EXPECT_NE(first("    - {name: a, role: viewer, token_file: ops.token}\n"
                  "    - {name: b, role: operator, token_file: ops2.token}\n")
                .find("the same token"),
            std::string::npos);
}

TEST_F(ConfigTest, LifecycleWindows) {
  const auto r = load(with_source("lifecycle:\n  response_window: 7d\n  hot_window: 24h\n", kGoodAuth));
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->lifecycle.windows.response_window, std::chrono::hours(24 * 7));
  EXPECT_EQ(r.config->lifecycle.windows.hot_window, std::chrono::hours(24));
  EXPECT_EQ(r.config->lifecycle.events_topic, "leads.events");
  EXPECT_FALSE(errors(with_source("lifecycle:\n  response_window: 0s\n", kGoodAuth)).empty());
  EXPECT_FALSE(errors(with_source("lifecycle:\n  events_topic: \"\"\n", kGoodAuth)).empty());
  EXPECT_FALSE(errors(with_source("lifecycle:\n  events_topic: \"leads events\"\n", kGoodAuth)).empty());
  EXPECT_NE(errors(with_source("lifecycle:\n  respons_window: 7d\n", kGoodAuth)).front().find("did you mean"),
            std::string::npos);
}

TEST_F(ConfigTest, ExampleConfigIsValid) {
  // The shipped example must load; its secret file is made by scripts/run.sh, so give it one here.
  const std::filesystem::path example = std::string(LEADRELAY_SOURCE_DIR) + "/config.example.yaml";
  std::ifstream in(example);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::create_directories(dir_ / "secrets");
  std::ofstream(dir_ / "secrets/marketplace.secret") << "0123456789abcdef0123456789abcdef\n";
  for (const char* token : {"operator", "referrals-admin", "viewer"}) {
    std::ofstream(dir_ / "secrets" / (std::string(token) + ".token")) << token << "-0123456789abcdef\n";
  }
  const auto r = load(text.str());
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
}

TEST_F(ConfigTest, EveryDeclaredKeyHasADescriptionAndAValidDefault) {
  for (const auto& table : key_tables()) {
    for (const auto& key : table.keys) {
      EXPECT_FALSE(key.description.empty()) << table.path << "." << key.name;
      std::string problem;
      if (key.type == KeyType::Size && !key.default_value.empty()) {
        std::uint64_t bytes = 0;
        EXPECT_TRUE(parse_size(key.default_value, bytes, problem)) << table.path << "." << key.name;
      }
      if (key.type == KeyType::Duration && !key.default_value.empty()) {
        std::chrono::milliseconds ms{};
        EXPECT_TRUE(parse_duration(key.default_value, ms, problem)) << table.path << "." << key.name;
      }
    }
  }
}

}  // namespace
}  // namespace leadrelay::app
