// Email syntax: the public conformance corpus (tests/testdata/email_conformance.tsv, 645 rows from public
// validators' suites with the lead policy in its header) plus cases for each length limit and reason code.
#include "daemon/validate/email.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace leadrelay::validate {
namespace {

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The corpus's C-style escapes: \\ \t \n \r \xHH \uHHHH \UHHHHHHHH.
std::string decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    const auto hex = [&](std::size_t digits) {
      const auto cp = std::stoul(s.substr(i + 1, digits), nullptr, 16);
      i += digits;
      append_utf8(out, cp);
    };
    switch (e) {
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'x': hex(2); break;
      case 'u': hex(4); break;
      case 'U': hex(8); break;
      default: out += '\\'; out += e;
    }
  }
  return out;
}

struct Row {
  std::string address;
  bool valid;
  std::string note;
};

std::vector<Row> corpus() {
  std::ifstream in(std::string(LEADRELAY_SOURCE_DIR) + "/tests/testdata/email_conformance.tsv");
  std::vector<Row> rows;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    const auto t1 = line.find('\t');
    const auto t2 = line.find('\t', t1 + 1);
    const auto t3 = line.find('\t', t2 + 1);
    rows.push_back({decode(line.substr(0, t1)), line.substr(t1 + 1, t2 - t1 - 1) == "valid",
                    t3 == std::string::npos ? "" : line.substr(t3 + 1)});
  }
  return rows;
}

TEST(EmailCorpus, EveryRowHasTheExpectedVerdict) {
  const auto rows = corpus();
  ASSERT_GE(rows.size(), 640u);
  int valid = 0;
  std::string failures;
  for (const auto& row : rows) {
    const auto result = check_email_syntax(row.address);
    valid += row.valid ? 1 : 0;
    if (result.ok != row.valid) {
      failures += "  [" + row.address + "] expected " + (row.valid ? "valid" : "invalid") + ", got " +
                  (result.ok ? "valid" : std::string(result.reason)) + "  (" + row.note + ")\n";
    }
  }
  EXPECT_GE(valid, 70);
  EXPECT_TRUE(failures.empty()) << failures;
}

struct Case {
  std::string address;
  std::string_view reason;  // empty: valid
  std::string normalized = {};
};

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

std::vector<Case> cases() {
  const auto label63 = repeat('a', 63);
  // 4 labels of 63 + ".com" = 255 + 4 > 253; 3 labels of 63 + 61-char label + ".com" = 253 exactly.
  const auto domain253 = label63 + "." + label63 + "." + label63 + "." + repeat('b', 57) + ".com";
  const auto domain254 = label63 + "." + label63 + "." + label63 + "." + repeat('b', 58) + ".com";
  return {
      {"john.doe@example.org", ""},
      {"John.Doe@Example.ORG", "", "John.Doe@example.org"},
      {"a@b.co", ""},
      {"first+tag@gmail.com", ""},
      {"o'brien@contoso.ie", ""},
      {"x_y-z@sub.domain.co.uk", ""},
      {repeat('l', 64) + "@example.com", ""},
      {repeat('l', 65) + "@example.com", "local_part_too_long"},
      {"a@" + label63 + ".com", ""},
      {"a@" + label63 + "a.com", "domain_label"},
      {"a@" + domain253, "address_too_long"},  // 1 + 1 + 253 = 255 > 254
      {"a@" + domain254, "domain_too_long"},
      {repeat('l', 64) + "@" + label63 + "." + label63 + "." + repeat('c', 57) + ".com", ""},  // 64+1+189 = 254
      {repeat('l', 64) + "@" + label63 + "." + label63 + "." + repeat('c', 58) + ".com", "address_too_long"},
      {"", "empty"},
      {" a@example.com", "whitespace"},
      {"a@example.com\n", "whitespace"},
      {"a b@example.com", "local_part_character"},
      {"\"quoted\"@example.com", "quoted_local_part"},
      {"a(comment)@example.com", "comment"},
      {"a@[192.0.2.1]", "ip_literal"},
      {"Jane <jane@example.com>", "display_name"},
      {"jane.example.com", "no_at_sign"},
      {"@example.com", "local_part_empty"},
      {"jane@", "domain_empty"},
      {".jane@example.com", "local_part_dots"},
      {"jane.@example.com", "local_part_dots"},
      {"ja..ne@example.com", "local_part_dots"},
      {"jane@example.com.", "domain_trailing_dot"},
      {"jane@-example.com", "domain_label"},
      {"jane@example-.com", "domain_label"},
      {"jane@exa_mple.com", "domain_label"},
      {"jane@example..com", "domain_label"},
      {"jane@localhost", "domain_dotless"},
      {"jane@example.c", "tld_shape"},
      {"jane@example.123", "tld_shape"},
      {"jane@example.co-uk", "tld_shape"},
      {"jane@company.con", "unknown_tld"},
      {"jane@shop.test", "special_use_domain"},
      {"jane@printer.local", "special_use_domain"},
      {"jane@1.168.192.in-addr.arpa", "special_use_domain"},
      {"jane@co.uk", "public_suffix_only"},
      {"jane@github.io", "public_suffix_only"},
      {"jane@a@example.com", "local_part_character"},
      {"jane\x7f@example.com", "unsafe_character"},
      {"jane\xe2\x80\x8b@example.com", "unsafe_character"},  // zero-width space
      {"jane\xc2\xa0@example.com", "unsafe_character"},      // no-break space
      {"jane\xff@example.com", "invalid_utf8"},
      // International domains: U-labels to A-labels (libidn2, IDNA2008 + UTS#46 non-transitional).
      {"jeff@\xe8\x87\xba\xe7\xb6\xb2\xe4\xb8\xad\xe5\xbf\x83.tw", "", "jeff@xn--fiqq24b10vi0d.tw"},
      {"info@m\xc3\xbcnchen.de", "", "info@xn--mnchen-3ya.de"},
      {"info@M\xc3\x9cNCHEN.DE", "", "info@xn--mnchen-3ya.de"},
      {"anna@xn--mnchen-3ya.de", "", "anna@xn--mnchen-3ya.de"},
      {"a@fa\xc3\x9f.de", "", "a@xn--fa-hia.de"},  // non-transitional: sharp s kept
      {"a@ab--cd.com", "domain_idna"},
      {"a@xn--zz.com", "domain_idna"},
      {"a@\xe2\x98\x83.com", "domain_idna"},  // a snowman is not a letter
      // Non-ASCII local parts (RFC 6531): letters, marks and digits yes; symbols and emoji no.
      {"j\xc3\xb6rg@example.de", ""},
      {"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8", ""},  // .公司 is a real TLD
      {"\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84", ""},
      {"\xf0\x9f\x98\x80@example.com", "local_part_character"},
      {"\xcc\x81\x61@example.com", "local_part_character"},  // starts with a combining mark
  };
}

TEST(EmailSyntaxCases, EachLimitAndReason) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.address);
    const auto r = check_email_syntax(c.address);
    EXPECT_EQ(r.ok, c.reason.empty());
    EXPECT_EQ(r.reason, c.reason);
    if (!c.normalized.empty()) {
      EXPECT_EQ(r.normalized(), c.normalized);
    }
  }
}

TEST(EmailSyntaxCases, RegistrableDomain) {
  EXPECT_EQ(check_email_syntax("a@mail.example.co.uk").registrable_domain, "example.co.uk");
  EXPECT_EQ(check_email_syntax("a@example.com").registrable_domain, "example.com");
  EXPECT_EQ(check_email_syntax("a@x.y.z.contoso.com").registrable_domain, "contoso.com");
}

}  // namespace
}  // namespace leadrelay::validate
