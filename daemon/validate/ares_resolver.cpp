#include "daemon/validate/ares_resolver.hpp"

#include <ares.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "daemon/metrics/metrics.hpp"
#include "daemon/util/thread.hpp"

namespace leadrelay::validate {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// What one DNS answer says, read with libresolv's parser: records of the asked type, their smallest TTL,
// whether it is a null MX, and the negative TTL from the SOA in the authority section.
struct Parsed {
  int records = 0;
  bool null_mx = false;
  std::uint32_t ttl = 0;
  std::int64_t negative_ttl = -1;  // seconds, -1: no SOA
};

Parsed parse(const unsigned char* abuf, int alen, int type) {
  Parsed p;
  ns_msg msg;
  if (abuf == nullptr || alen <= 0 || ns_initparse(abuf, alen, &msg) != 0) return p;
  int mx_records = 0;
  bool root_exchange_zero = false;
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != type) continue;
    p.ttl = p.records == 0 ? ns_rr_ttl(rr) : std::min(p.ttl, ns_rr_ttl(rr));
    ++p.records;
    if (type == ns_t_mx && ns_rr_rdlen(rr) >= 3) {
      ++mx_records;
      const auto* rdata = ns_rr_rdata(rr);
      char name[NS_MAXDNAME];
      const int n = ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rdata + 2, name, sizeof name);
      const bool root = n >= 0 && (name[0] == '\0' || (name[0] == '.' && name[1] == '\0'));
      if (root && ns_get16(rdata) == 0) root_exchange_zero = true;
    }
  }
  p.null_mx = mx_records == 1 && root_exchange_zero;
  for (int i = 0; i < ns_msg_count(msg, ns_s_ns); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_ns, i, &rr) != 0 || ns_rr_type(rr) != ns_t_soa || ns_rr_rdlen(rr) < 20) continue;
    const auto minimum = ns_get32(ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4);
    p.negative_ttl = std::min<std::int64_t>(ns_rr_ttl(rr), minimum);
  }
  return p;
}

struct LibraryInit {
  LibraryInit() { ares_library_init(ARES_LIB_INIT_ALL); }
};

}  // namespace

struct AresResolver::Impl {
  struct Socket {
    explicit Socket(asio::io_context& io, int fd) : fd(fd), descriptor(io, fd) {}
    int fd;
    asio::posix::stream_descriptor descriptor;
    bool want_read = false, want_write = false, reading = false, writing = false, closed = false;
  };
  using Callback = std::function<void(const MailDomainAnswer&)>;
  struct Lookup {
    explicit Lookup(asio::io_context& io, std::string d) : domain(std::move(d)), deadline(io) {}
    std::string domain;
    std::vector<Callback> waiters;
    asio::steady_timer deadline;
    bool done = false;
  };
  struct Query {
    Impl* impl;
    std::weak_ptr<Lookup> lookup;
    int type;
  };
  struct Entry {
    MailDomainAnswer answer;
    Clock::time_point expires;
  };

  DnsConfig config;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::steady_timer ares_timer{io};
  ares_channel channel = nullptr;
  std::unordered_map<int, std::shared_ptr<Socket>> sockets;
  std::unordered_map<std::string, std::shared_ptr<Lookup>> pending;
  std::deque<std::shared_ptr<Lookup>> queued;
  int inflight = 0;
  std::thread thread;

  mutable std::mutex cache_mutex;
  std::unordered_map<std::string, Entry> cache;
  std::atomic<std::uint64_t> queries{0};
  std::atomic<std::uint64_t> cache_hits{0};

  bool cached(const std::string& domain, MailDomainAnswer& out) {
    std::lock_guard lock(cache_mutex);
    const auto it = cache.find(domain);
    if (it == cache.end()) return false;
    if (it->second.expires <= Clock::now()) {
      cache.erase(it);
      return false;
    }
    out = it->second.answer;
    return true;
  }

  void store(const std::string& domain, const MailDomainAnswer& answer, std::chrono::seconds ttl) {
    if (config.cache_entries == 0) return;
    const auto keep = std::min<Clock::duration>(ttl, config.max_ttl);
    if (keep <= Clock::duration::zero()) return;
    std::lock_guard lock(cache_mutex);
    if (cache.size() >= config.cache_entries) {
      // Full: drop what has expired, else an arbitrary entry (the cache is a speed-up, not a record).
      std::erase_if(cache, [now = Clock::now()](const auto& e) { return e.second.expires <= now; });
      if (cache.size() >= config.cache_entries) cache.erase(cache.begin());
    }
    cache[domain] = {answer, Clock::now() + keep};
  }

  // --- on the loop thread ---

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    auto it = self->sockets.find(fd);
    if (readable == 0 && writable == 0) {
      if (it == self->sockets.end()) return;
      auto sock = it->second;
      self->sockets.erase(it);
      sock->closed = true;
      boost::system::error_code ignored;
      sock->descriptor.cancel(ignored);
      sock->descriptor.release();  // c-ares closes its own socket
      return;
    }
    if (it == self->sockets.end()) it = self->sockets.emplace(fd, std::make_shared<Socket>(self->io, fd)).first;
    auto sock = it->second;
    sock->want_read = readable != 0;
    sock->want_write = writable != 0;
    if (sock->want_read && !sock->reading) self->arm(sock, true);
    if (sock->want_write && !sock->writing) self->arm(sock, false);
  }

  void arm(const std::shared_ptr<Socket>& sock, bool read) {
    (read ? sock->reading : sock->writing) = true;
    sock->descriptor.async_wait(
        read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
        [this, sock, read](const boost::system::error_code& ec) {
          (read ? sock->reading : sock->writing) = false;
          if (ec || sock->closed) return;
          ares_process_fd(channel, read ? sock->fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : sock->fd);
          if (!sock->closed && (read ? sock->want_read : sock->want_write) && !(read ? sock->reading : sock->writing)) {
            arm(sock, read);
          }
          rearm_timer();
        });
  }

  void rearm_timer() {
    timeval tv{};
    if (ares_timeout(channel, nullptr, &tv) == nullptr) {
      ares_timer.cancel();
      return;
    }
    ares_timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    ares_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      rearm_timer();
    });
  }

  void join(const std::string& domain, Callback cb) {
    MailDomainAnswer hit;
    if (cached(domain, hit)) {
      cb(hit);
      return;
    }
    if (const auto it = pending.find(domain); it != pending.end()) {
      it->second->waiters.push_back(std::move(cb));
      return;
    }
    auto lookup = std::make_shared<Lookup>(io, domain);
    lookup->waiters.push_back(std::move(cb));
    pending.emplace(domain, lookup);
    if (inflight < config.max_concurrent) {
      begin(lookup);
    } else {
      queued.push_back(lookup);
    }
  }

  void begin(const std::shared_ptr<Lookup>& lookup) {
    ++inflight;
    lookup->deadline.expires_after(config.timeout);
    lookup->deadline.async_wait([this, weak = std::weak_ptr<Lookup>(lookup)](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto l = weak.lock(); l && !l->done) {
        finish(l, {MailStatus::Unknown, "dns_timeout"}, std::chrono::seconds(0));
      }
    });
    query(lookup, ns_t_mx);
  }

  void query(const std::shared_ptr<Lookup>& lookup, int type) {
    ++queries;
    metrics::Metrics::get().dns_query(type == ns_t_mx ? "MX" : type == ns_t_a ? "A" : "AAAA");
    ares_query(channel, lookup->domain.c_str(), ns_c_in, type, &Impl::on_answer, new Query{this, lookup, type});
    rearm_timer();
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<Query> q(static_cast<Query*>(arg));
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;
    auto lookup = q->lookup.lock();
    if (!lookup || lookup->done) return;  // past its deadline already
    q->impl->answered(lookup, q->type, status, abuf, alen);
  }

  void answered(const std::shared_ptr<Lookup>& lookup, int type, int status, const unsigned char* abuf, int alen) {
    const auto parsed = parse(abuf, alen, type);
    const auto negative = std::chrono::seconds(parsed.negative_ttl >= 0
                                                   ? parsed.negative_ttl
                                                   : std::chrono::duration_cast<std::chrono::seconds>(
                                                         config.negative_ttl).count());
    if (status == ARES_SUCCESS && parsed.records > 0) {
      if (type == ns_t_mx && parsed.null_mx) {
        finish(lookup, {MailStatus::NullMx, "null_mx"}, std::chrono::seconds(parsed.ttl));
      } else {
        finish(lookup, {MailStatus::Accepts, {}}, std::chrono::seconds(parsed.ttl));
      }
      return;
    }
    if (status == ARES_SUCCESS || status == ARES_ENODATA) {
      // The name exists without records of this type: MX → A → AAAA (implicit MX), then no mail host.
      if (type == ns_t_mx) return query(lookup, ns_t_a);
      if (type == ns_t_a) return query(lookup, ns_t_aaaa);
      return finish(lookup, {MailStatus::NoMailHost, "no_mail_host"}, negative);
    }
    if (status == ARES_ENOTFOUND) return finish(lookup, {MailStatus::NoSuchDomain, "no_such_domain"}, negative);
    // SERVFAIL, REFUSED, timeouts, unreachable servers: say nothing about the address; remember briefly so a
    // failing resolver does not stall every batch on the same domain.
    finish(lookup, {MailStatus::Unknown, status == ARES_ETIMEOUT ? "dns_timeout" : "dns_failure"},
           std::min(std::chrono::seconds(30), negative));
  }

  void finish(const std::shared_ptr<Lookup>& lookup, const MailDomainAnswer& answer, std::chrono::seconds ttl) {
    lookup->done = true;
    lookup->deadline.cancel();
    if (answer.reason == "dns_timeout") ttl = std::min(ttl, std::chrono::seconds(30));
    store(lookup->domain, answer, answer.reason == "dns_timeout" ? std::chrono::seconds(0) : ttl);
    metrics::Metrics::get().dns_lookup(answer.reason.empty() ? "accepts" : answer.reason);
    pending.erase(lookup->domain);
    --inflight;
    for (auto& cb : lookup->waiters) cb(answer);
    lookup->waiters.clear();
    while (inflight < config.max_concurrent && !queued.empty()) {
      auto next = std::move(queued.front());
      queued.pop_front();
      begin(next);
    }
  }
};

AresResolver::AresResolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<AresResolver> AresResolver::create(const DnsConfig& config, std::string& error) {
  static LibraryInit init;
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  ares_options options{};
  options.sock_state_cb = &Impl::on_sock_state;
  options.sock_state_cb_data = impl.get();
  options.timeout = static_cast<int>(std::max<std::int64_t>(50, config.timeout.count() / 2));
  options.tries = 2;
  options.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
  if (const int rc = ares_init_options(&impl->channel, &options, mask); rc != ARES_SUCCESS) {
    error = std::string("cannot start the DNS resolver: ") + ares_strerror(rc);
    return nullptr;
  }
  if (!config.servers.empty()) {
    std::string csv;
    for (const auto& s : config.servers) csv += (csv.empty() ? "" : ",") + s;
    if (const int rc = ares_set_servers_ports_csv(impl->channel, csv.c_str()); rc != ARES_SUCCESS) {
      error = "bad DNS server list '" + csv + "': " + ares_strerror(rc);
      ares_destroy(impl->channel);
      return nullptr;
    }
  }
  auto* raw = impl.get();
  impl->thread = std::thread([raw] {
    util::name_this_thread("lr-dns");
    raw->io.run();
  });
  return std::unique_ptr<AresResolver>(new AresResolver(std::move(impl)));
}

AresResolver::~AresResolver() {
  auto* impl = impl_.get();
  asio::post(impl->io, [impl] {
    // Fails every query still out (their callbacks see ARES_EDESTRUCTION) and closes c-ares's sockets.
    ares_destroy(impl->channel);
    impl->channel = nullptr;
    impl->ares_timer.cancel();
    for (auto& [domain, lookup] : impl->pending) {
      lookup->deadline.cancel();
      for (auto& cb : lookup->waiters) cb({MailStatus::Unknown, "dns_failure"});
    }
    for (auto& lookup : impl->queued) {
      for (auto& cb : lookup->waiters) cb({MailStatus::Unknown, "dns_failure"});
    }
    impl->work.reset();
  });
  impl->thread.join();
}

MailDomains AresResolver::resolve(const std::vector<std::string>& domains) {
  MailDomains out;
  std::vector<std::string> misses;
  for (const auto& d : domains) {
    if (d.empty() || out.count(d) != 0) continue;
    MailDomainAnswer hit;
    if (impl_->cached(d, hit)) {
      ++impl_->cache_hits;
      metrics::Metrics::get().dns_cache_hit();
      out.emplace(d, hit);
    } else if (std::find(misses.begin(), misses.end(), d) == misses.end()) {
      misses.push_back(d);
    }
  }
  if (misses.empty()) return out;
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t remaining = misses.size();
  asio::post(impl_->io, [&] {
    for (const auto& d : misses) {
      impl_->join(d, [&, d](const MailDomainAnswer& answer) {
        std::lock_guard lock(mutex);
        out[d] = answer;
        if (--remaining == 0) cv.notify_one();
      });
    }
  });
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return remaining == 0; });
  return out;
}

void AresResolver::prime(const std::string& domain, const MailDomainAnswer& answer, std::chrono::seconds ttl) {
  impl_->store(domain, answer, ttl);
}

AresResolver::Stats AresResolver::stats() const { return {impl_->queries.load(), impl_->cache_hits.load()}; }

}  // namespace leadrelay::validate
