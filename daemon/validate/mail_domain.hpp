#pragma once
// Does a domain accept mail? The answer DNS gives (MX, else A/AAAA as an implicit MX; a lone "MX 0 ." is a null
// MX), looked up by the caller before the pipeline runs so that the validation stage itself stays free of I/O.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace leadrelay::validate {

enum class MailStatus {
  Accepts,       // MX records, or none but an A/AAAA record (RFC 5321 §5.1 implicit MX)
  NullMx,        // "MX 0 ." (RFC 7505): the domain says it takes no mail
  NoSuchDomain,  // NXDOMAIN
  NoMailHost,    // the name exists but has neither MX nor A/AAAA
  Unknown,       // timeout, SERVFAIL, refused, or DNS switched off: never a reason to call an address invalid
};

struct MailDomainAnswer {
  MailStatus status = MailStatus::Unknown;
  std::string_view reason;  // a reason code: null_mx, no_such_domain, no_mail_host, dns_timeout, dns_failure, dns_off
};

using MailDomains = std::unordered_map<std::string, MailDomainAnswer>;

class MailDomainResolver {
 public:
  virtual ~MailDomainResolver() = default;
  // Answers for every domain (A-label form), from the cache or DNS; blocks the calling thread, each lookup bounded
  // by the configured deadline.
  virtual MailDomains resolve(const std::vector<std::string>& domains) = 0;
};

}  // namespace leadrelay::validate
