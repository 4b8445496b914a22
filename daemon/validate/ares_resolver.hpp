#pragma once
// The MailDomainResolver on c-ares, driven from its own Asio loop (one thread): c-ares's sockets are watched
// with Asio descriptors and its timeouts with an Asio timer. Per domain: MX, else A, else AAAA; a lone
// "MX 0 ." is a null MX. Each lookup has a deadline; answers are cached for their TTL (negative answers for the
// SOA's minimum, else negative_ttl), lookups in flight are bounded and the same domain is looked up once.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "daemon/validate/mail_domain.hpp"
#include "daemon/validate/validation_config.hpp"

namespace leadrelay::validate {

class AresResolver final : public MailDomainResolver {
 public:
  // Null with a message when c-ares cannot start (bad server list, no resolv.conf).
  static std::unique_ptr<AresResolver> create(const DnsConfig& config, std::string& error);
  ~AresResolver() override;

  MailDomains resolve(const std::vector<std::string>& domains) override;
  // Puts an answer in the cache as if DNS had given it with this TTL: for benchmarks with a warm cache.
  void prime(const std::string& domain, const MailDomainAnswer& answer, std::chrono::seconds ttl);

  struct Stats {
    std::uint64_t queries = 0;     // DNS queries sent (MX, A, AAAA)
    std::uint64_t cache_hits = 0;  // domains answered from the cache
  };
  Stats stats() const;

 private:
  struct Impl;
  explicit AresResolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace leadrelay::validate
