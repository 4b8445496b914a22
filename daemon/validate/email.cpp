#include "daemon/validate/email.hpp"

#include <idn2.h>
#include <libpsl.h>
#include <unictype.h>
#include <unistr.h>

#include <array>
#include <cstdlib>
#include <unordered_map>

namespace leadrelay::validate {
namespace {

// Reason codes, stable: they appear in lead.v1 (email_check.reasons) and in `leadrelay validate` output.
constexpr std::string_view kEmpty = "empty";
constexpr std::string_view kInvalidUtf8 = "invalid_utf8";
constexpr std::string_view kUnsafeCharacter = "unsafe_character";
constexpr std::string_view kWhitespace = "whitespace";
constexpr std::string_view kDisplayName = "display_name";
constexpr std::string_view kNoAt = "no_at_sign";
constexpr std::string_view kLocalEmpty = "local_part_empty";
constexpr std::string_view kLocalTooLong = "local_part_too_long";
constexpr std::string_view kQuoted = "quoted_local_part";
constexpr std::string_view kComment = "comment";
constexpr std::string_view kLocalDots = "local_part_dots";
constexpr std::string_view kLocalCharacter = "local_part_character";
constexpr std::string_view kDomainEmpty = "domain_empty";
constexpr std::string_view kIpLiteral = "ip_literal";
constexpr std::string_view kTrailingDot = "domain_trailing_dot";
constexpr std::string_view kIdna = "domain_idna";
constexpr std::string_view kDomainTooLong = "domain_too_long";
constexpr std::string_view kLabel = "domain_label";
constexpr std::string_view kDotless = "domain_dotless";
constexpr std::string_view kTldShape = "tld_shape";
constexpr std::string_view kSpecialUse = "special_use_domain";
constexpr std::string_view kUnknownTld = "unknown_tld";
constexpr std::string_view kPublicSuffix = "public_suffix_only";
constexpr std::string_view kTooLong = "address_too_long";

constexpr bool is_ascii_atext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '/':
    case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

constexpr auto kAtext = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = is_ascii_atext(static_cast<unsigned char>(c));
  return t;
}();

constexpr bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Code points no real address holds: controls, format and invisible characters, non-ASCII spaces and
// separators, private use and unassigned.
bool unsafe_code_point(ucs4_t uc) {
  if (uc < 0x20 || uc == 0x7f) return true;
  if (uc < 0x80) return false;
  return uc_is_general_category(uc, UC_CATEGORY_C) || uc_is_general_category(uc, UC_CATEGORY_Z);
}

const psl_ctx_t* psl() {
  // The newest of libpsl's built-in list and Debian's publicsuffix file; loaded once, read-only after.
  static const psl_ctx_t* ctx = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  return ctx;
}

constexpr std::string_view kSpecialUseTlds[] = {"test", "example", "invalid", "localhost", "local",
                                                "onion", "arpa",    "internal", "alt"};

// The local part: a dot-atom of ASCII atext and, for SMTPUTF8 mailboxes, Unicode letters, marks and digits.
std::string_view check_local(std::string_view local) {
  if (local.empty()) return kLocalEmpty;
  if (local.front() == '"') return kQuoted;
  if (local.size() > 64) return kLocalTooLong;
  bool atom_start = true;
  for (std::size_t i = 0; i < local.size();) {
    const auto c = static_cast<unsigned char>(local[i]);
    if (c < 0x80) {
      if (c == '.') {
        if (atom_start) return kLocalDots;  // leading or doubled dot
        atom_start = true;
      } else if (kAtext[c]) {
        atom_start = false;
      } else {
        return c == '(' || c == ')' ? kComment : c == '"' ? kQuoted : kLocalCharacter;
      }
      ++i;
      continue;
    }
    ucs4_t uc = 0;
    const int n = u8_mbtouc(&uc, reinterpret_cast<const uint8_t*>(local.data() + i), local.size() - i);
    if (uc_is_general_category(uc, UC_CATEGORY_M)) {
      if (atom_start) return kLocalCharacter;  // a combining mark with nothing to combine with
    } else if (!uc_is_general_category(uc, UC_CATEGORY_L) && !uc_is_general_category(uc, UC_CATEGORY_N)) {
      return kLocalCharacter;  // symbols, punctuation, emoji
    }
    atom_start = false;
    i += static_cast<std::size_t>(n);
  }
  return atom_start ? kLocalDots : std::string_view{};  // trailing dot
}

bool needs_idna(std::string_view domain) {
  for (std::size_t i = 0; i < domain.size(); ++i) {
    const auto c = static_cast<unsigned char>(domain[i]);
    if (c >= 0x80) return true;
    // A label with "--" in positions 3 and 4 (xn--, or a reserved R-LDH form): libidn2 decides.
    if (c == '-' && i >= 2 && domain[i - 1] == '-' && (i == 3 || (i >= 4 && domain[i - 4] == '.'))) return true;
  }
  return false;
}

// The host name in A-label form: LDH labels of 1-63 octets, at least two, a real TLD, a registrable part.
std::string_view check_domain(std::string_view raw, EmailSyntax& out) {
  if (raw.empty()) return kDomainEmpty;
  if (raw.front() == '[') return kIpLiteral;
  if (raw.front() == '(' || raw.back() == ')') return kComment;
  if (raw.back() == '.') return kTrailingDot;
  if (needs_idna(raw)) {
    const std::string input(raw);
    char* ascii = nullptr;
    const int rc = idn2_to_ascii_8z(input.c_str(), &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK) return kIdna;
    out.domain = ascii;
    idn2_free(ascii);
  } else {
    out.domain.resize(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      out.domain[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  const std::string_view d = out.domain;
  if (d.size() > 253) return kDomainTooLong;
  std::size_t label_start = 0;
  std::size_t labels = 0;
  for (std::size_t i = 0; i <= d.size(); ++i) {
    if (i < d.size() && d[i] != '.') {
      if (!is_ldh(d[i])) return kLabel;
      continue;
    }
    const auto len = i - label_start;
    if (len == 0 || len > 63 || d[label_start] == '-' || d[i - 1] == '-') return kLabel;
    ++labels;
    label_start = i + 1;
  }
  if (labels < 2) return kDotless;
  const auto tld = d.substr(d.rfind('.') + 1);
  bool letters = tld.size() >= 2;
  for (char c : tld) letters = letters && c >= 'a' && c <= 'z';
  if (!letters && !tld.starts_with("xn--")) return kTldShape;
  for (auto special : kSpecialUseTlds) {
    if (tld == special) return kSpecialUse;
  }
  const std::string tld_z(tld);
  if (psl_is_public_suffix2(psl(), tld_z.c_str(), PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) == 0) return kUnknownTld;
  out.registrable_domain = registrable_domain(d);
  if (out.registrable_domain.empty()) return kPublicSuffix;
  return {};
}

// The domain part's result, by the domain as written. Leads share few domains (companies, free-mail providers),
// and the Public Suffix List lookups cost more than the rest of the check, so each thread remembers the last
// few thousand (a pure function's results; cleared when full).
struct DomainResult {
  std::string_view reason;
  std::string domain;
  std::string registrable;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

const DomainResult& domain_result(std::string_view raw) {
  thread_local std::unordered_map<std::string, DomainResult, StringHash, std::equal_to<>> cache;
  if (const auto it = cache.find(raw); it != cache.end()) return it->second;
  if (cache.size() >= 4096) cache.clear();
  EmailSyntax scratch;
  DomainResult r;
  r.reason = check_domain(raw, scratch);
  r.domain = std::move(scratch.domain);
  r.registrable = std::move(scratch.registrable_domain);
  return cache.emplace(std::string(raw), std::move(r)).first->second;
}

}  // namespace

std::string registrable_domain(std::string_view domain) {
  const std::string z(domain);
  const char* r = psl_registrable_domain(psl(), z.c_str());
  return r != nullptr ? std::string(r) : std::string();
}

EmailSyntax check_email_syntax(std::string_view address) {
  EmailSyntax out;
  const auto fail = [&out](std::string_view reason) {
    out.ok = false;
    out.reason = reason;
    return out;
  };
  if (address.empty()) return fail(kEmpty);
  if (is_ascii_space(address.front()) || is_ascii_space(address.back())) return fail(kWhitespace);
  if (u8_check(reinterpret_cast<const uint8_t*>(address.data()), address.size()) != nullptr) return fail(kInvalidUtf8);
  for (std::size_t i = 0; i < address.size();) {
    const auto c = static_cast<unsigned char>(address[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return fail(kUnsafeCharacter);
      if (c == '<' || c == '>') return fail(kDisplayName);
      ++i;
      continue;
    }
    ucs4_t uc = 0;
    const int n = u8_mbtouc(&uc, reinterpret_cast<const uint8_t*>(address.data() + i), address.size() - i);
    if (unsafe_code_point(uc)) return fail(kUnsafeCharacter);
    i += static_cast<std::size_t>(n);
  }
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return fail(kNoAt);
  const auto local = address.substr(0, at);
  if (const auto reason = check_local(local); !reason.empty()) return fail(reason);
  const auto& domain = domain_result(address.substr(at + 1));
  if (!domain.reason.empty()) return fail(domain.reason);
  if (local.size() + 1 + domain.domain.size() > 254) return fail(kTooLong);
  out.domain = domain.domain;
  out.registrable_domain = domain.registrable;
  out.local = std::string(local);
  out.ok = true;
  return out;
}

}  // namespace leadrelay::validate
