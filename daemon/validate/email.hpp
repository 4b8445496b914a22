#pragma once
// Email address syntax for leads, offline: is this string, exactly as received, a bare address a real Internet
// mailbox could have? RFC 5321 Mailbox (dot-atom local part @ hostname), with the lead policy of README
// "Email syntax policy": no quoted local parts, comments, IP literals or display names; UTF-8 letters, marks and
// digits allowed in the local part (RFC 6531); international domains converted to A-labels by libidn2
// (IDNA2008, UTS#46 non-transitional); the TLD must be in the ICANN section of the Public Suffix List (libpsl)
// and the domain must have a registrable part. Pure and thread-safe.
#include <string>
#include <string_view>

namespace leadrelay::validate {

struct EmailSyntax {
  bool ok = false;
  std::string_view reason;        // a reason code when !ok (see email.cpp), empty when ok
  std::string local;              // as received (case kept)
  std::string domain;             // A-label form, lower case
  std::string registrable_domain; // e.g. "example.co.uk" for "mail.example.co.uk"
  std::string normalized() const { return local + "@" + domain; }
};

EmailSyntax check_email_syntax(std::string_view address);

// The registrable domain of an A-label host name (libpsl), or empty when it has none.
std::string registrable_domain(std::string_view domain);

}  // namespace leadrelay::validate
